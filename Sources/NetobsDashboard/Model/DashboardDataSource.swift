/// Where the dashboard's pages get their data. The controller implements it over its live
/// state; `StaticDashboardData` implements it over records held in memory.
public protocol DashboardDataSource: Sendable {
    /// Calls between pods over the recent window, with their health.
    func serviceEdges() async throws -> [ServiceEdge]
    /// Every pod seen, sorted.
    func pods() async throws -> [PodSummary]
    /// The per-pod charts; nil for a pod never seen.
    func podSeries(_ pod: PodID) async throws -> PodTimeSeries?
    /// Latency per request URI served by the pod; nil for a pod never seen.
    func uriLatency(_ pod: PodID) async throws -> PodURILatency?
    /// Every anomaly, newest first.
    func anomalies() async throws -> [Anomaly]
}
