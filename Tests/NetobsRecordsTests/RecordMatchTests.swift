import NetobsWire
import Testing
@testable import NetobsRecords

/// A joined flow record with the fields the match clauses read.
private func flow(kind: String = "http", ts: UInt64 = 1_764_379_815_000_000_000, node: String = "node-1",
                  src: (ns: String, pod: String, ip: String, port: Int, workload: String) = ("shop", "front-end-7d9f", "10.1.0.2", 40000, "deployment/front-end"),
                  dst: (ns: String, pod: String, ip: String, port: Int, workload: String) = ("shop", "carts-5c4b", "10.1.0.5", 8080, "deployment/carts"),
                  method: String = "GET", uri: String = "/cart/items?id=1") -> RecordView {
    RecordView(json: Array(#"{"kind":"\#(kind)","ts_ns":\#(ts),"node":"\#(node)","src_ip":"\#(src.ip)","src_port":\#(src.port),"dst_ip":"\#(dst.ip)","dst_port":\#(dst.port),"src_ns":"\#(src.ns)","src_pod":"\#(src.pod)","src_workload":"\#(src.workload)","dst_ns":"\#(dst.ns)","dst_pod":"\#(dst.pod)","dst_workload":"\#(dst.workload)","http_request_method":"\#(method)","http_request_uri":"\#(uri)","http_status_code":200}"#.utf8))!
}

private func criterion(_ field: RecordCriterion.Field, _ values: String...) -> RecordCriterion {
    try! RecordCriterion(field, values)
}

@Suite("RecordMatch: tail's filters, hubble observe semantics")
struct RecordMatchTests {
    @Test func fromAndToPodArePrefixesWithAnOptionalNamespace() {
        let r = flow()
        #expect(criterion(.fromPod, "front-end").matches(r))
        #expect(criterion(.fromPod, "shop/front-end").matches(r))
        #expect(!criterion(.fromPod, "db/front-end").matches(r))
        #expect(!criterion(.fromPod, "carts").matches(r), "the source is front-end")
        #expect(criterion(.toPod, "shop/carts").matches(r))
        #expect(criterion(.toPod, "nope", "carts-5").matches(r), "values of one clause OR")
    }

    @Test func addressesAndCIDRs() {
        let r = flow(dst: ("shop", "carts", "fd00::1:5", 8080, ""))
        #expect(criterion(.fromIP, "10.1.0.2").matches(r))
        #expect(criterion(.fromIP, "10.0.0.0/8").matches(r))
        #expect(criterion(.fromIP, "10.1.0.0/30").matches(r) && !criterion(.fromIP, "10.1.0.0/31").matches(r))
        #expect(criterion(.fromIP, "0.0.0.0/0").matches(r))
        #expect(!criterion(.fromIP, "fd00::/8").matches(r), "an IPv6 prefix never holds an IPv4 address")
        #expect(criterion(.toIP, "fd00::/16").matches(r) && criterion(.toIP, "fd00::1:5").matches(r))
        #expect(!criterion(.toIP, "fd01::/16").matches(r))
        for bad in ["10.1.0", "10.0.0.0/33", "fd00::/129", "host", ""] {
            #expect(throws: RecordCriterion.Invalid.self) { try RecordCriterion(.fromIP, [bad]) }
        }
    }

    @Test func ports() throws {
        let r = flow()
        #expect(criterion(.port, "40000").matches(r) && criterion(.port, "8080").matches(r))
        #expect(criterion(.toPort, "8080").matches(r) && !criterion(.fromPort, "8080").matches(r))
        #expect(throws: RecordCriterion.Invalid(description: "port \"http\": not a port number")) { try RecordCriterion(.port, ["http"]) }
        #expect(throws: RecordCriterion.Invalid.self) { try RecordCriterion(.port, ["70000"]) }
    }

    @Test func workloads() {
        let r = flow()
        #expect(criterion(.fromWorkload, "front-end").matches(r))
        #expect(criterion(.fromWorkload, "deployment/front-end").matches(r))
        #expect(criterion(.fromWorkload, "Deployment/front-end").matches(r))
        #expect(!criterion(.fromWorkload, "statefulset/front-end").matches(r))
        #expect(criterion(.fromWorkload, "shop/front-end").matches(r), "shop is no workload kind: a namespace")
        #expect(criterion(.toWorkload, "shop/deployment/carts").matches(r))
        #expect(!criterion(.toWorkload, "db/deployment/carts").matches(r))
        #expect(!criterion(.toWorkload, "carts").matches(flow(dst: ("shop", "carts", "10.1.0.5", 80, ""))), "no workload joined")
        #expect(throws: RecordCriterion.Invalid.self) { try RecordCriterion(.fromWorkload, ["a/b/c/d"]) }
    }

    @Test func httpMethodAndPath() {
        let r = flow()
        #expect(criterion(.httpMethod, "get").matches(r) && !criterion(.httpMethod, "POST").matches(r))
        #expect(criterion(.httpPath, "/cart").matches(r), "a prefix")
        #expect(criterion(.httpPath, "/cart/items").matches(r))
        #expect(!criterion(.httpPath, "/cart/items?id").matches(r), "the path stops at the query")
        #expect(criterion(.httpPath, "/cart/*").matches(r))
        #expect(!criterion(.httpPath, "/*").matches(r), "* stays within a segment")
        #expect(criterion(.httpPath, "/**").matches(r) && criterion(.httpPath, "**/items").matches(r))
        #expect(criterion(.httpPath, "/c?rt/[a-j]tems").matches(r) && !criterion(.httpPath, "/c?rt/[!i]tems").matches(r))
        #expect(!criterion(.httpPath, "/orders").matches(r))
        #expect(throws: RecordCriterion.Invalid.self) { try RecordCriterion(.httpPath, ["cart"]) }
        #expect(throws: RecordCriterion.Invalid.self) { try RecordCriterion(.httpPath, ["/a[b"]) }
    }

    @Test func nodeNamespacesAndTheFixedFieldsRepeated() {
        let r = flow()
        #expect(criterion(.node, "node-1").matches(r) && !criterion(.node, "node-2").matches(r))
        #expect(criterion(.fromNamespace, "shop").matches(r) && !criterion(.toNamespace, "db").matches(r))
        #expect(criterion(.namespace, "db", "shop").matches(r))
        #expect(criterion(.kind, "tcp", "http").matches(r) && criterion(.protocol, "tcp").matches(r))
        #expect(criterion(.status, "5xx", "2xx").matches(r) && !criterion(.status, "404").matches(r))
        #expect(criterion(.anomaly, "true").matches(flow(kind: "anomaly")) && !criterion(.anomaly, "true").matches(r))
    }

    @Test("include clauses AND; the exclude clauses together say what to drop (hubble's --not)")
    func includeAndExclude() {
        let a = flow()
        let b = flow(src: ("shop", "orders-1", "10.1.0.9", 41000, "deployment/orders"))
        let dns = flow(kind: "dns", dst: ("kube-system", "coredns-1", "10.1.0.53", 53, "deployment/coredns"))
        let m1 = RecordMatch(include: [criterion(.namespace, "shop"), criterion(.fromPod, "front-end")])
        #expect(m1.matches(a) && !m1.matches(b))
        // --not --from-pod front-end --not --from-pod orders: drops both.
        let m2 = RecordMatch(exclude: [criterion(.fromPod, "front-end", "orders")])
        #expect(!m2.matches(a) && !m2.matches(b) && m2.matches(flow(src: ("db", "x", "10.2.0.1", 1, ""))))
        // --not --from-pod front-end --not --port 53: drops front-end's DNS only.
        let m3 = RecordMatch(exclude: [criterion(.fromPod, "front-end"), criterion(.port, "53")])
        #expect(m3.matches(a) && !m3.matches(dns) && m3.matches(b))
    }

    @Test func timeBoundsReadTsNsAndPassRecordsWithout() {
        let m = RecordMatch(sinceNs: 100, untilNs: 200)
        #expect(!m.matches(flow(ts: 99)) && m.matches(flow(ts: 100)) && m.matches(flow(ts: 200)) && !m.matches(flow(ts: 201)))
        #expect(m.matches(RecordView(json: Array(#"{"kind":"loss"}"#.utf8))!))
        #expect(m.fieldsRead == .time)
    }

    @Test("a view of the fields a match reads selects exactly what the full view selects")
    func leanViews() throws {
        let records = [flow(), flow(kind: "dns", dst: ("kube-system", "coredns-1", "10.1.0.53", 53, "deployment/coredns")),
                       flow(src: ("db", "mysql-0", "10.2.0.1", 3306, "statefulset/mysql"), method: "POST", uri: "/x")]
        let matches = [
            RecordMatch(include: [criterion(.fromPod, "shop/front")]), RecordMatch(include: [criterion(.toIP, "10.1.0.0/24")]),
            RecordMatch(include: [criterion(.port, "53")]), RecordMatch(include: [criterion(.node, "node-1")]),
            RecordMatch(include: [criterion(.fromWorkload, "db/statefulset/mysql")]),
            RecordMatch(include: [criterion(.httpMethod, "post")]), RecordMatch(include: [criterion(.httpPath, "/cart/*")]),
            RecordMatch(exclude: [criterion(.toNamespace, "kube-system")]), RecordMatch(sinceNs: 1_764_379_815_000_000_001),
        ]
        for r in records {
            let line = Array(#"{"kind":"\#(r.kind)","ts_ns":\#(r.tsNs),"node":"\#(r.node)","src_ip":"\#(r.srcIP)","src_port":\#(r.srcPort),"dst_ip":"\#(r.dstIP)","dst_port":\#(r.dstPort),"src_ns":"\#(r.srcNamespace)","src_pod":"\#(r.srcPod)","src_workload":"\#(r.srcWorkload)","dst_ns":"\#(r.dstNamespace)","dst_pod":"\#(r.dstPod)","dst_workload":"\#(r.dstWorkload)","http_request_method":"\#(r.httpMethod)","http_request_uri":"\#(r.httpURI)"}"#.utf8)
            for m in matches {
                let filter = RecordFilter(match: m)
                let lean = try #require(RecordView(filter.fieldsRead, of: line))
                #expect(filter.matches(lean) == filter.matches(r), "\(m)")
            }
        }
    }

    @Test("from the wire: strict for the client, and a server only ever widens what it cannot use")
    func strictAndLenient() throws {
        let wire = StreamMatch(include: [MatchClause("from_pod", ["a"]), MatchClause("from_galaxy", ["far"])],
                               exclude: [MatchClause("port", ["53"])])
        #expect(throws: RecordCriterion.Invalid(description: "unknown filter \"from_galaxy\"")) { try RecordMatch(strict: wire) }
        let lenient = RecordMatch(lenient: wire)
        #expect(lenient.include == [criterion(.fromPod, "a")] && lenient.exclude == [criterion(.port, "53")])
        // An exclude side with a clause it cannot use excludes nothing.
        let widened = RecordMatch(lenient: StreamMatch(exclude: [MatchClause("port", ["53"]), MatchClause("to_ip", ["bad"])]))
        #expect(widened.exclude.isEmpty)
        // The client's match goes over the wire as it is.
        let strict = try RecordMatch(strict: StreamMatch(include: [MatchClause("http_path", ["/a/*"])], exclude: [MatchClause("node", ["n1", "n2"])]))
        #expect(strict.wire == StreamMatch(include: [MatchClause("http_path", ["/a/*"])], exclude: [MatchClause("node", ["n1", "n2"])]))
    }
}
