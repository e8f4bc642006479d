/// The dashboard's URLs, in one place for the routes and the links.
public enum DashboardPaths {
    public static let overview = "/"
    public static let flows = "/flows"
    public static let stylesheet = "/assets/dashboard.css"
    public static let flowsScript = "/assets/flows.js"

    public static func pod(_ pod: PodID) -> String {
        "/pods/\(Markup.pathSegment(pod.namespace.isEmpty ? "-" : pod.namespace))/\(Markup.pathSegment(pod.name))"
    }

    public static func uris(_ id: PodID) -> String { pod(id) + "/uris" }

    /// The pod named by the route's parameters ("-" stands for no namespace).
    static func podID(namespace: String, name: String) -> PodID {
        let ns = percentDecoded(namespace)
        return PodID(namespace: ns == "-" ? "" : ns, name: percentDecoded(name))
    }

    /// Undoes `Markup.pathSegment`; a malformed escape is kept as it is.
    static func percentDecoded(_ s: String) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(s.utf8)[...]
        while let b = utf8.popFirst() {
            if b == UInt8(ascii: "%"), utf8.count >= 2,
               let v = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
