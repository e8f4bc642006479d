import Foundation
import Testing
@testable import NetobsHTTP
import NetobsController
import NetobsRecords
import NetobsTLS

@Suite("HTTP endpoint: requests and policy")
struct StreamRequestTests {
    @Test func queryBecomesTheFilter() throws {
        let r = try StreamRequest(query: [("namespace", "shop"), ("kind", "http"), ("status", "5xx"), ("anomalies", "")],
                                  accept: nil)
        #expect(r.filter == RecordFilter(namespace: "shop", kind: "http", status: "5xx", anomaliesOnly: true))
        #expect(r.framing == .ndjson)
        #expect(throws: StreamRequest.Invalid.self) { try StreamRequest(query: [("nmespace", "x")], accept: nil) }
        #expect(throws: StreamRequest.Invalid.self) { try StreamRequest(query: [("anomalies", "maybe")], accept: nil) }
    }

    @Test("tail's other filters by their clause names; not.NAME negates; since/until")
    func matchClausesInTheQuery() throws {
        let r = try StreamRequest(query: [("from_pod", "shop/front"), ("to_port", "8080"), ("from_pod", "shop/orders"),
                                          ("not.http_path", "/static/**"), ("since", "2025-05-01T13:04:05Z"), ("until", "5m"),
                                          ("namespace", "shop")],
                                  accept: nil, nowNs: 1_746_104_945_000_000_000)
        #expect(r.filter.namespace == "shop")
        #expect(r.filter.match == RecordMatch(
            include: [try RecordCriterion(.fromPod, ["shop/front", "shop/orders"]), try RecordCriterion(.toPort, ["8080"])],
            exclude: [try RecordCriterion(.httpPath, ["/static/**"])],
            sinceNs: 1_746_104_645_000_000_000, untilNs: 1_746_104_645_000_000_000))
        #expect(try StreamRequest(query: [("not.namespace", "kube-system")], accept: nil).filter.match.exclude
                == [try RecordCriterion(.namespace, ["kube-system"])])
        #expect(throws: StreamRequest.Invalid.self) { try StreamRequest(query: [("to_ip", "nope")], accept: nil) }
        #expect(throws: StreamRequest.Invalid.self) { try StreamRequest(query: [("since", "later")], accept: nil) }
        #expect(throws: StreamRequest.Invalid.self) { try StreamRequest(query: [("not.galaxy", "x")], accept: nil) }
    }

    @Test func framingFollowsAccept() throws {
        #expect(try StreamRequest(query: [], accept: "text/event-stream").framing == .serverSentEvents)
        #expect(try StreamRequest(query: [], accept: "application/x-ndjson, text/event-stream").framing == .ndjson)
        #expect(try StreamRequest(query: [], accept: "*/*").framing == .ndjson)
    }

    @Test func plaintextOnlyOnLoopbackLiterals() throws {
        try HTTPSecurity.checkPlaintext(host: "127.0.0.1")
        try HTTPSecurity.checkPlaintext(host: "::1")
        try HTTPSecurity.checkPlaintext(host: "[::1]")
        for host in ["0.0.0.0", "::", "10.0.0.1", "localhost", "127.0.0.2", ""] {
            #expect(throws: HTTPSecurity.Refusal.self, "\(host)") { try HTTPSecurity.checkPlaintext(host: host) }
        }
    }

    @Test func framing() {
        let r = [Array(#"{"kind":"tcp"}"#.utf8)]
        #expect(String(decoding: StreamFraming.chunk(r, dropped: 0, framing: .ndjson), as: UTF8.self) == "{\"kind\":\"tcp\"}\n")
        #expect(String(decoding: StreamFraming.chunk(r, dropped: 2, framing: .serverSentEvents), as: UTF8.self)
            == "event: dropped\ndata: {\"records\":2}\n\ndata: {\"kind\":\"tcp\"}\n\n")
    }
}

/// Real servers on loopback, real curl as the client, our libssl TLS on the server.
@Suite("HTTP endpoint over mutual TLS", .serialized)
struct EndpointTests {
    let pki: FilePKI
    init() throws { pki = try FilePKI() }

    func mutualTLS(_ pki: FilePKI) throws -> HTTPSecurity { .mutualTLS(try pki.serverContext(roles: HTTPSecurity.clientRoles)) }

    @Test("a consumer certificate gets /healthz and /metrics; no certificate or an agent one is refused in the handshake")
    func rolesAndRoutes() async throws {
        let running = try await Running.start(pki, security: mutualTLS)
        defer { Task { await running.stop() } }
        var curl = Curl(pki: pki, port: running.http.port, client: try pki.clientFiles(.consumer))
        let health = try await curl.get("/healthz")
        #expect(health.status == 200 && health.body == "ok\n", "\(health)")
        running.controller.hub.publish(format: .jsonLines, records: [Records.http(503)])
        let metrics = try await curl.get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains(#"netobs_pod_http_requests_total{exported_namespace="shop",exported_pod="front-end",role="client",status_class="5xx"} 1"#))
        #expect(try await promtoolCheck(metrics.body).status == 0)
        #expect(try await curl.get("/nothing").status == 404)

        curl.client = nil
        let anonymous = try await curl.get("/healthz")
        #expect(anonymous.exit != 0 && anonymous.status == 0, "\(anonymous)")
        curl.client = try pki.clientFiles(.agent)
        let agent = try await curl.get("/healthz")
        #expect(agent.exit != 0 && agent.status == 0, "\(agent)")
        #expect(await eventually { running.log.lines.contains { $0.contains("no accepted netobs role") } })
        // Plain HTTP to the TLS port gets nothing.
        let plain = try await Curl(pki: pki, port: running.http.port, plaintext: true).get("/healthz")
        #expect(plain.status != 200)
    }

    @Test("GET /v1/records streams exactly the matching records, as NDJSON and as server-sent events")
    func filteredStreams() async throws {
        let running = try await Running.start(pki, security: mutualTLS) { $0.keepalive = .milliseconds(200) }
        defer { Task { await running.stop() } }
        let curl = Curl(pki: pki, port: running.http.port, client: try pki.clientFiles(.operator))
        let bad = try await curl.get("/v1/records?colour=red")
        #expect(bad.status == 400 && bad.body.contains("unknown query parameter colour"))

        let ndjson = try curl.stream("/v1/records?namespace=shop&kind=http&status=5xx")
        let sse = try curl.stream("/v1/records?protocol=udp&status=NXDOMAIN", headers: ["Accept: text/event-stream"])
        let all = try curl.stream("/v1/records")
        defer { [ndjson, sse, all].forEach { $0.stop() } }
        #expect(await eventually { running.controller.hub.count == 3 })

        let batch = [Records.http(200), Records.http(503), Records.http(502, ns: "other", dstNs: "other"),
                     Records.dns("NXDOMAIN"), Records.dns("NOERROR"), Records.tcp(), Records.http(500, role: "server")]
        running.controller.hub.publish(format: .jsonLines, records: batch)
        let expectNDJSON = [batch[1], batch[6]].map { String(decoding: $0, as: UTF8.self) }
        #expect(await eventually { ndjson.lines.count > expectNDJSON.count })
        #expect(ndjson.lines == expectNDJSON + [""], "\(ndjson.output) \(ndjson.errors)")
        #expect(await eventually { all.lines.count > batch.count })
        #expect(all.lines.dropLast() == batch.map { String(decoding: $0, as: UTF8.self) }[...])

        let wantedEvent = "data: " + String(decoding: batch[3], as: UTF8.self) + "\n\n"
        #expect(await eventually { sse.output.contains(wantedEvent) && sse.output.contains(": keepalive\n\n") })
        let events = sse.output.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: ") }
        #expect(events == ["data: " + String(decoding: batch[3], as: UTF8.self)], "\(sse.output)")

        let metrics = try await curl.get("/metrics").body
        #expect(metrics.contains("netobs_http_streams 3\n") && metrics.contains("netobs_stream_subscribers 3\n"))
        // A client that goes away leaves the hub when its connection closes.
        all.stop()
        #expect(await eventually { running.controller.hub.count == 2 })
        #expect(await eventually { (try? await curl.get("/metrics").body.contains("netobs_http_streams 2\n")) == true })
    }

    @Test("plaintext is refused on a non-loopback address, served on 127.0.0.1")
    func plaintextLoopback() async throws {
        let controller = try await Controller.start(.init(host: "127.0.0.1", port: 0, dataDirectory: temporaryDirectory("data"),
                                                          tls: try pki.serverContext()), log: ControllerLog { _ in })
        defer { Task { await controller.stop() } }
        await #expect(throws: HTTPSecurity.Refusal.self) {
            _ = try await HTTPServer.start(.init(host: "0.0.0.0", port: 0, security: .plaintextLoopback),
                                           controller: controller, log: { _ in })
        }
        let server = try await HTTPServer.start(.init(host: "127.0.0.1", port: 0, security: .plaintextLoopback),
                                                controller: controller, log: { _ in })
        #expect(try await Curl(pki: pki, port: server.port, plaintext: true).get("/healthz").body == "ok\n")
        await server.stop()
    }
}
