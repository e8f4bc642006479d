import Foundation
import NetobsAgent
import NetobsRecords
import NodeLab
import Testing

/// The record cap on real traffic: the L7 collector (in this process, attached to the cgroup
/// root) with a cap of 5 records and 10 URIs per interval, curl sending 30 distinct URIs to
/// nginx. Every exchange must be in a record or an aggregate's count, exactly once, and the
/// folding and URI overflow counted.
@Suite(.serialized, rootOnly)
struct L7RecordCapKernelTests {
    @Test func pastTheCapNothingIsLost() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let nginx = try L7Peers.runNginx(in: server, ip: server.ipv4, reachableFrom: client)
            defer { nginx.stop() }
            let root = try #require(CgroupMount.v2Root())
            var options = L7Collector.Options(node: "lab", cgroupRoot: root)
            options.recordCap = 5
            options.maxAggregateURIs = 10
            let collector = try L7Collector(options: options, context: RecordContext(node: "lab", monotonicToUnixNs: 0))
            defer { collector.close() }
            _ = try collector.flush() // whatever came before the traffic

            let n = 30
            try client.check(L7Peers.curl((0..<n).map { L7Peers.url(ip: server.ipv4, path: "/ok?i=\($0)") }))
            Thread.sleep(forTimeInterval: 0.3)
            let records = try collector.flush()
            let netns = [UInt64(client.netnsInode), UInt64(server.netnsInode)]
            let cgroups = [client.cgroupID, server.cgroupID]
            func u(_ r: Record, _ k: String) -> UInt64 { if case .uint(let v)? = r[k] { v } else { 0 } }
            func s(_ r: Record, _ k: String) -> String { if case .string(let v)? = r[k] { v } else { "" } }
            let single = records.filter { $0.kind == "http" && netns.contains(u($0, "netns")) }
            let aggregates = records.filter { $0.kind == "http_aggregate" && cgroups.contains(u($0, "cgroup_id")) }
            let folded = aggregates.reduce(0) { $0 + u($1, "count") }
            let loss = { (reason: String) in records.filter { $0.kind == "loss" && s($0, "reason") == reason }.reduce(0) { $0 + u($1, "count") } }
            print("exchanges \(2 * n): records \(single.count), aggregated \(folded) in \(aggregates.count) aggregates; "
                  + "loss l7_records_aggregated \(loss("l7_records_aggregated")), l7_uri_overflow \(loss("l7_uri_overflow"))")
            #expect(single.count == 5)
            #expect(UInt64(single.count) + folded == UInt64(2 * n)) // client and server sides
            #expect(loss("l7_records_aggregated") == folded)
            let uris = Set(aggregates.map { s($0, "http_request_uri") })
            #expect(uris.count == 11 && uris.contains("<other>"))
            let other = aggregates.filter { s($0, "http_request_uri") == "<other>" }.reduce(0) { $0 + u($1, "count") }
            #expect(loss("l7_uri_overflow") == other && other > 0)
            #expect(aggregates.allSatisfy { u($0, "http_status_code") == 200 && u($0, "http_duration_max") > 0 })
        }
    }
}
