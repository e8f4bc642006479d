import Foundation
import Testing
import NetobsAnalysis
import NetobsController
import NetobsRecords
import NetobsWire
@testable import NetobsMain

/// Joined records of a small cluster, with everything tail's filters read.
enum TailRecords {
    static func record(_ i: Int, kind: String = "http", ts: UInt64, node: String = "node-1",
                       src: (ns: String, pod: String, ip: String, port: Int), srcWorkload: String = "",
                       dst: (ns: String, pod: String, ip: String, port: Int), dstWorkload: String = "",
                       method: String = "GET", uri: String = "/", status: Int = 200) -> [UInt8] {
        Array(#"{"kind":"\#(kind)","ts_ns":\#(ts),"i":\#(i),"node":"\#(node)","src_ip":"\#(src.ip)","src_port":\#(src.port),"dst_ip":"\#(dst.ip)","dst_port":\#(dst.port),"src_ns":"\#(src.ns)","src_pod":"\#(src.pod)","src_workload":"\#(srcWorkload)","dst_ns":"\#(dst.ns)","dst_pod":"\#(dst.pod)","dst_workload":"\#(dstWorkload)","http_request_method":"\#(method)","http_request_uri":"\#(uri)","http_status_code":\#(status)}"#.utf8)
    }

    static let base: UInt64 = 1_764_379_815_000_000_000

    /// 60 records, one per second from `base`, cycling through callers, callees, methods and paths.
    static let all: [[UInt8]] = (0..<60).map { i in
        let callers = [("shop", "front-end-7d9f", "10.1.0.2", "deployment/front-end"), ("shop", "orders-5b", "10.1.0.9", "deployment/orders"),
                       ("loadgen", "wrk-0", "10.3.0.7", "job/wrk")]
        let callees = [("shop", "carts-1", "10.1.0.5", 8080, "deployment/carts"), ("kube-system", "coredns-1", "10.96.0.10", 53, "deployment/coredns"),
                       ("db", "mysql-0", "10.2.0.4", 3306, "statefulset/mysql")]
        let c = callers[i % 3], d = callees[(i / 3) % 3]
        return record(i, kind: d.3 == 53 ? "dns" : "http", ts: base + UInt64(i) * 1_000_000_000, node: "node-\(i % 2 + 1)",
                      src: (c.0, c.1, c.2, 40000 + i), srcWorkload: c.3, dst: (d.0, d.1, d.2, d.3), dstWorkload: d.4,
                      method: ["GET", "POST"][i % 2], uri: ["/cart/items?id=\(i)", "/orders/\(i)", "/static/app.js"][i % 3],
                      status: [200, 503, 404, 200][i % 4])
    }

    static func number(_ r: [UInt8]) -> Int {
        (try! JSONSerialization.jsonObject(with: Data(r)) as! [String: Any])["i"] as! Int
    }
}

@Suite("netobs tail: filters as hubble observe takes them")
struct TailFiltersTests {
    let now = TailRecords.base + 120_000_000_000
    let connection = ["--controller", "h:1", "--certs", "c"]

    func plan(_ args: [String]) throws -> TailPlan { try tailPlan(connection + args, now: now) }

    /// What each side selects: the controller (new: the whole Subscribe; old: its fixed fields
    /// only) then tail's own filter over what arrived.
    func selected(_ plan: TailPlan, controllerKnowsMatch: Bool) -> [Int] {
        var subscribe = plan.subscribe
        if !controllerKnowsMatch {
            subscribe.match = StreamMatch()
            subscribe.sinceNs = 0
            subscribe.untilNs = 0
        }
        let server = RecordFilter(subscribe)
        let sent = TailRecords.all.filter { server.matches(RecordView(json: $0)!) }
        let printer = TailPrinter(format: .jsonl, colour: false, filter: plan.filter)
        return printer.text(sent).split(separator: "\n").map { TailRecords.number(Array($0.utf8)) }
    }

    func expect(_ args: [String], _ wanted: (Int) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let p = try plan(args)
        let expected = (0..<60).filter(wanted)
        #expect(!expected.isEmpty && expected.count < 60, "a test that selects something, not everything", sourceLocation: sourceLocation)
        #expect(selected(p, controllerKnowsMatch: true) == expected, "new controller: \(args)", sourceLocation: sourceLocation)
        #expect(selected(p, controllerKnowsMatch: false) == expected, "old controller: \(args)", sourceLocation: sourceLocation)
    }

    @Test("each filter selects what it says, through a new controller and an old one alike")
    func filtersSelectTheSameWhicheverController() throws {
        try expect(["--from-pod", "shop/front-end"]) { $0 % 3 == 0 }
        try expect(["--from-pod", "front-end", "--from-pod", "wrk"]) { $0 % 3 != 1 }
        try expect(["--to-pod", "db/mysql"]) { ($0 / 3) % 3 == 2 }
        try expect(["--from-ip", "10.1.0.0/24"]) { $0 % 3 != 2 }
        try expect(["--to-ip", "10.96.0.10"]) { ($0 / 3) % 3 == 1 }
        try expect(["--port", "53"]) { ($0 / 3) % 3 == 1 }
        try expect(["--to-port", "3306", "--to-port", "8080"]) { ($0 / 3) % 3 != 1 }
        try expect(["--node", "node-2"]) { $0 % 2 == 1 }
        try expect(["--from-workload", "job/wrk"]) { $0 % 3 == 2 }
        try expect(["--to-workload", "db/mysql"]) { ($0 / 3) % 3 == 2 }
        try expect(["--http-method", "post"]) { $0 % 2 == 1 }
        try expect(["--http-path", "/cart/*"]) { $0 % 3 == 0 }
        try expect(["--http-path", "/orders/"]) { $0 % 3 == 1 }
        try expect(["--namespace", "db", "--namespace", "kube-system"]) { ($0 / 3) % 3 != 0 }
        try expect(["--status", "5xx", "--status", "404"]) { $0 % 4 == 1 || $0 % 4 == 2 }
        try expect(["--kind", "dns"]) { ($0 / 3) % 3 == 1 }
        // Different filters AND.
        try expect(["--from-pod", "front-end", "--to-port", "8080", "--http-method", "GET"]) { $0 % 3 == 0 && ($0 / 3) % 3 == 0 && $0 % 2 == 0 }
    }

    @Test("--not negates the next filter; the negated ones together say what to drop")
    func negation() throws {
        try expect(["--not", "--namespace", "kube-system"]) { ($0 / 3) % 3 != 1 }
        try expect(["--not", "--from-pod", "front-end", "--not", "--from-pod", "wrk"]) { $0 % 3 == 1 }
        // Drops front-end's DNS only: front-end's other records and others' DNS stay.
        try expect(["--not", "--from-pod", "front-end", "--not", "--port", "53"]) { !($0 % 3 == 0 && ($0 / 3) % 3 == 1) }
        try expect(["--kind", "http", "--not", "--status", "5xx", "--to-pod", "carts"]) {
            ($0 / 3) % 3 == 0 && $0 % 4 != 1
        }
        try expect(["--not", "--http-path=/static/**"]) { $0 % 3 != 2 }
        try expect(["--not", "--kind", "dns"]) { ($0 / 3) % 3 != 1 }
    }

    @Test("--since and --until select by ts_ns, on the controller or here")
    func timeWindow() throws {
        try expect(["--since", "2025-11-29T01:30:45Z"]) { $0 >= 30 }
        try expect(["--since", "90s"]) { $0 >= 30 }  // now is base + 120 s
        try expect(["--since", "2025-11-29T01:30:35Z", "--until", "2025-11-29T01:30:49.5Z"]) { $0 >= 20 && $0 <= 34 }
        let past = try plan(["--until", "110s"])
        #expect(past.endsAfterReplay && past.untilNs == 0 && past.subscribe.replayLast == UInt32.max)
        #expect(past.subscribe.untilNs == now - 110_000_000_000)
        let future = try plan(["--since", "1m", "--until", "2099-01-01T00:00:00Z"])
        #expect(!future.endsAfterReplay && future.untilNs == 4_070_908_800_000_000_000)
        #expect(try plan(["--since", "1m", "--last", "5"]).subscribe.replayLast == 5)
        #expect(throws: (any Error).self) {
            try TailCommand.parse(connection + ["--since", "2025-01-02T00:00:00Z", "--until", "2025-01-01T00:00:00Z"])
        }
        #expect(throws: (any Error).self) { try TailCommand.parse(connection + ["--since", "a while"]) }
        #expect(try TailCommand.parse(connection + ["--since", "5m", "--no-follow"]).noFollow)
    }

    @Test("what goes to the controller: fixed fields for single filters, match clauses for the rest")
    func subscription() throws {
        let p = try plan(["--namespace", "shop", "--kind", "http", "--kind", "dns", "--not", "--pod", "x",
                          "--from-pod", "a", "--to-ip", "10.0.0.0/8", "--from-pod", "b", "--not", "--pod", "y", "--since", "1m"])
        #expect(p.subscribe.namespace == "shop" && p.subscribe.kind.isEmpty && p.subscribe.pod.isEmpty)
        #expect(p.subscribe.match == StreamMatch(
            include: [MatchClause("kind", ["http", "dns"]), MatchClause("from_pod", ["a", "b"]), MatchClause("to_ip", ["10.0.0.0/8"])],
            exclude: [MatchClause("pod", ["x", "y"])]))
        #expect(p.subscribe.sinceNs == now - 60_000_000_000 && p.subscribe.replayLast == UInt32.max)
        #expect(p.filter == RecordFilter(p.subscribe), "the controller and tail select the same")
        #expect(try plan(["--not", "--anomalies"]).subscribe.match == StreamMatch(exclude: [MatchClause("anomaly", ["true"])]))
        #expect(try plan(["--anomalies"]).subscribe == Subscribe(anomaliesOnly: true))
    }

    @Test func misusedFiltersSayWhy() throws {
        func refused(_ args: [String], _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                _ = try plan(args)
                Issue.record("accepted \(args)", sourceLocation: sourceLocation)
            } catch {
                let text = "\(error)"
                #expect(text.contains(message), "\(text)", sourceLocation: sourceLocation)
            }
        }
        refused(["--not", "--not", "--pod", "a"], "--not twice in a row")
        refused(["--not", "--last", "5"], "--not must come right before a filter flag, not --last")
        refused(["--pod", "a", "--not"], "--not must come right before a filter flag")
        refused(["--from-ip", "10.0.0.0/40"], "from_ip \"10.0.0.0/40\": not an IP address or CIDR")
        refused(["--http-path", "cart"], "http_path \"cart\"")
        refused(["--from-workload", "a/b/c/d"], "from_workload")
        #expect(throws: (any Error).self) { try TailCommand.parse(connection + ["--port", "http"]) }
    }

    @Test func outputTimeAndColourFlags() throws {
        let tail = try TailCommand.parse(connection + ["-o", "jsonl", "--time-format", "rfc3339nano", "--color", "never"])
        #expect(tail.output == .jsonl && tail.timeFormat == .rfc3339nano && tail.color == .never)
        #expect(try TailCommand.parse(connection + ["--json"]).json, "the old flag still parses")
        #expect(throws: (any Error).self) { try TailCommand.parse(connection + ["--time-format", "iso"]) }
        #expect(throws: (any Error).self) { try TailCommand.parse(connection + ["--color", "sometimes"]) }
        #expect(ColorChoice.auto.enabled(isTerminal: true, noColor: nil))
        #expect(!ColorChoice.auto.enabled(isTerminal: true, noColor: "1"))
        #expect(ColorChoice.auto.enabled(isTerminal: true, noColor: ""), "NO_COLOR counts only when not empty")
        #expect(!ColorChoice.auto.enabled(isTerminal: false, noColor: nil))
        #expect(ColorChoice.always.enabled(isTerminal: false, noColor: "1") && !ColorChoice.never.enabled(isTerminal: true, noColor: nil))

        let printer = TailPrinter(format: .table, colour: false, timeFormat: .unix)
        #expect(printer.text([TailRecords.all[3]]).hasPrefix("1764379818.000 dns "))
        let coloured = TailPrinter(format: .table, colour: true)
        #expect(coloured.text([TailRecords.all[0]]).contains("\u{1B}["))
    }

    @Test func agentsAndAnomaliesTakeTheSameOutputFlag() throws {
        #expect(try AgentsCommand.parse(["-o", "json"]).output == .json)
        #expect(try AgentsCommand.parse(["--output", "table"]).output == .table)
        let old = try AgentsCommand.parse(["--json"])
        #expect(old.json && old.output == .table, "--json still works (and says it is deprecated)")
        #expect(throws: (any Error).self) { try AgentsCommand.parse(["-o", "yaml"]) }
        #expect(try AnomaliesCommand.parse(["--data", "runs", "-o", "jsonl"]).output == .jsonl)
        #expect(try AnomaliesCommand.parse(["--data", "runs"]).output == .table)

        let anomaly = try Anomaly.parse(line: #"{"start_ns":1,"end_ns":2,"detected_ns":2,"pod":"carts-1","namespace":"shop","kind":"loss","score":3.5,"uri":"/cart\u001b[2J","status":"closed","ranking":[],"evidence":{"series":[],"flows":[],"drop_reasons":{},"uris":[],"domains":[],"alarms":[],"features":[]}}"#)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(AnomalyTable.json(anomaly, run: "run-1").utf8)) as? [String: Any])
        #expect(object["run"] as? String == "run-1" && object["pod"] as? String == "carts-1" && object["start_ns"] as? Int == 1)
        #expect(object["uri"] as? String == "/cart\u{1B}[2J", "JSON keeps the text as it is")
        #expect(AnomalyTable.render([anomaly]).contains("/cart\\x1B[2J"), "the table escapes it")
    }
}
