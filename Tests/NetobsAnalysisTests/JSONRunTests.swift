import Foundation
import Testing
@testable import NetobsAnalysis

/// The synthetic run written as the agent + controller would (records.jsonl with the
/// contract's field names, labels.jsonl) and read back: the JSON path gives the same anomalies.
/// With NETOBS_SYNTH_OUT=DIR set, the run is also left in DIR for trying the CLI.
struct JSONRunTests {
    static func line(_ r: FlowRecord) -> String {
        var o: [String: Any] = ["kind": r.kind, "ts_ns": r.tsNs, "role": r.role]
        if r.pid > 0 { o["pid"] = Int(r.pid) }
        for (prefix, pod) in [("src", r.srcPod), ("dst", r.dstPod)] {
            let p = pod.map(PodName.split) ?? (name: "external", namespace: "")
            o[prefix + "_pod"] = p.name
            o[prefix + "_ns"] = p.namespace
        }
        o["http_request_uri"] = r.httpURI
        o["http_status_code"] = r.httpStatus
        o["http_duration"] = r.httpDurationNs.map { UInt64($0) }
        o["dns_query_domain"] = r.dnsDomain
        o["dns_response_code"] = r.dnsResponseCode
        o["dns_duration"] = r.dnsDurationNs.map { UInt64($0) }
        if r.kind == "tcp" {
            o["tcp_retransmit"] = UInt64(r.tcpRetransmit)
            o["tcp_drop"] = UInt64(r.tcpDrop)
            if !r.tcpDropReasons.isEmpty { o["tcp_drop_reasons"] = r.tcpDropReasons }
            o["tcp_rtt"] = r.tcpRttNs.map { UInt64($0) }
            if r.tcpConnectFailed { o["tcp_connect_failed"] = true }
            o["tcp_error"] = r.tcpError
        }
        if r.kind == "tcp_latency" {
            o["req_count"] = UInt64(r.count)
            o["req_latency_p99"] = r.turnLatencyP99Ns.map { UInt64($0) }
        }
        let data = try! JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    @Test func recordsReadBackFromJSONGiveTheSameAnomalies() throws {
        let run = SyntheticCluster.run(seed: 21)
        let lines = run.records.map(Self.line)
        let parsed = try lines.map { try FlowRecord.parse(line: Substring($0)) }
        let fromJSON = Replay.detect(parsed, model: AnalysisModel()).anomalies
        let direct = Replay.detect(run.records, model: AnalysisModel()).anomalies
        #expect(fromJSON.map(\.pod) == direct.map(\.pod))
        #expect(fromJSON.map(\.kind) == direct.map(\.kind))
        #expect(!fromJSON.isEmpty)
        let labelLines = try run.labels.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        #expect(try labelLines.map { try FaultLabel.parse(line: Substring($0)) } == run.labels)

        if let out = ProcessInfo.processInfo.environment["NETOBS_SYNTH_OUT"] {
            let dir = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: dir.appendingPathComponent("records.jsonl"))
            try Data((labelLines.joined(separator: "\n") + "\n").utf8).write(to: dir.appendingPathComponent("labels.jsonl"))
        }
    }
}
