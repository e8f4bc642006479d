/// Label names. A label that names what a scrape target label also names (`namespace`, `pod`,
/// `node`: Kubernetes service discovery and the Prometheus Operator put those on the target) is
/// written `exported_<name>`, the name Prometheus itself gives a clashing label under the
/// default `honor_labels: false`; so stored series are the same whichever way it is scraped,
/// and the target's own labels stay the controller's. Labels saying which end of a flow (`src_*`,
/// `dst_*`) never clash and are written as they are.
enum MetricLabels {
    static let namespace = "exported_namespace"
    static let pod = "exported_pod"
    static let node = "exported_node"
}
