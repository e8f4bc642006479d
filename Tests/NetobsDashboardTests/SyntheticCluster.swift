@testable import NetobsDashboard

/// A small Sock-Shop-like call graph as JSON-lines records, 60 one-second intervals from
/// `startNs`, with packet loss on `carts` from second 30 to 45 (retransmits on both its callers'
/// connections; slow and failing /cart requests from front-end) and the anomaly record that
/// reports it. Each HTTP exchange is recorded by
/// both sockets (client and server side), as an agent on one node sees it.
enum SyntheticCluster {
    static let startNs: UInt64 = 1_764_000_000_000_000_000
    static let seconds = 60
    static let faultSeconds = 30..<45
    static let ns = "sock-shop"

    static let calls: [(client: String, server: String, uri: String)] = [
        ("front-end", "catalogue", "/catalogue"),
        ("front-end", "carts", "/cart"),
        ("front-end", "orders", "/orders"),
        ("orders", "payment", "/paymentAuth"),
        ("orders", "shipping", "/shipping"),
        ("orders", "carts", "/cart/items"),
    ]

    static func ts(_ second: Int, _ ms: Int = 0) -> UInt64 {
        startNs + UInt64(second) * 1_000_000_000 + UInt64(ms) * 1_000_000
    }

    static func http(_ t: UInt64, client: String, server: String, uri: String, status: Int, durationNs: UInt64,
                     role: String) -> String {
        let (local, remote) = role == "client" ? (client, server) : (server, client)
        return """
        {"kind":"http","ts_ns":\(t),"role":"\(role)","src_pod":"\(local)","src_ns":"\(ns)","dst_pod":"\(remote)",\
        "dst_ns":"\(ns)","http_request_method":"GET","http_request_uri":"\(uri)","http_status_code":\(status),\
        "http_duration":\(durationNs)}
        """
    }

    static func tcp(_ t: UInt64, client: String, server: String, retransmits: Int, rttNs: UInt64) -> String {
        """
        {"kind":"tcp","ts_ns":\(t),"role":"client","src_pod":"\(client)","src_ns":"\(ns)","dst_pod":"\(server)",\
        "dst_ns":"\(ns)","tcp_new_state":"ESTABLISHED","tcp_retransmit":\(retransmits),"tcp_drop":0,"tcp_rtt":\(rttNs)}
        """
    }

    static var anomalyLine: String {
        """
        {"kind":"anomaly","start_ns":\(ts(faultSeconds.lowerBound)),"end_ns":\(ts(faultSeconds.upperBound)),\
        "pod":"carts","namespace":"\(ns)","fault":"loss","score":0.93,"uri":"/cart",\
        "evidence":{"retransmits":"48 vs 0 before","flows":["front-end -> carts","orders -> carts"]}}
        """
    }

    /// Every record line, anomaly last.
    static var lines: [String] {
        var out: [String] = []
        for s in 0..<seconds {
            let faulty = faultSeconds.contains(s)
            for (i, call) in calls.enumerated() {
                let hitsCarts = call.server == "carts"
                // 4 requests a second per call; under loss, /cart is slow and one in four fails.
                for k in 0..<4 {
                    let t = ts(s, 100 + i * 100 + k * 20)
                    let slow = faulty && call.uri == "/cart"
                    let duration: UInt64 = (slow ? 200 : 5 + UInt64(k)) * 1_000_000
                    let status = slow && k == 0 ? 503 : 200
                    out.append(http(t, client: call.client, server: call.server, uri: call.uri, status: status,
                                    durationNs: duration + 1_000_000, role: "client"))
                    out.append(http(t, client: call.client, server: call.server, uri: call.uri, status: status,
                                    durationNs: duration, role: "server"))
                }
                out.append(tcp(ts(s, 900), client: call.client, server: call.server,
                               retransmits: faulty && hitsCarts ? 3 : 0, rttNs: faulty && hitsCarts ? 40_000_000 : 200_000))
            }
            // carts talks to its database over plain TCP (no HTTP).
            out.append(tcp(ts(s, 950), client: "carts", server: "carts-db", retransmits: 0, rttNs: 150_000))
        }
        out.append(anomalyLine)
        return out
    }

    static func data() async -> StaticDashboardData {
        let data = StaticDashboardData()
        await data.ingest(jsonLines: lines.joined(separator: "\n"))
        return data
    }

    static func pod(_ name: String) -> PodID { PodID(namespace: ns, name: name) }
}
