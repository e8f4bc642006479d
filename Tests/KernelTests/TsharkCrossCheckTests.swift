import Foundation
import NodeLab
import Testing

/// An independent decoder as the referee: tshark captures eth0 of the client pod while curl
/// and dig talk to nginx and dnsmasq. Every HTTP exchange and DNS answer tshark decodes must be
/// in our client-side records, and our records must hold nothing tshark did not see.
@Suite(.serialized, rootOnly)
struct TsharkCrossCheckTests {
    @Test func recordsEqualWhatTsharkDecodes() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let ip = server.ipv4
            let nginx = try L7Peers.Nginx(ip: ip)
            defer { nginx.remove() }
            let web = try server.spawn(nginx.argv)
            defer { _ = web.terminate() }
            let dns = try server.spawn(L7Peers.dnsmasq(ip: ip))
            defer { _ = dns.terminate() }
            try dns.waitForOutput("started", inStderr: true)
            try L7Peers.waitForListener(in: client, ip: ip, port: 80)

            let capture = FileManager.default.temporaryDirectory.appendingPathComponent("netobs-\(UUID().uuidString).pcapng")
            defer { try? FileManager.default.removeItem(at: capture) }
            _ = FileManager.default.createFile(atPath: capture.path, contents: nil)
            let tshark = try client.spawn(["/usr/bin/tshark", "-n", "-i", "eth0", "-f", "port 80 or port 53", "-w", capture.path])
            defer { _ = tshark.terminate() }
            try tshark.waitForOutput("Capturing on", inStderr: true, timeout: .seconds(20))
            let agent = try AgentRun()

            try client.check(L7Peers.curl(["/ok", "/missing", "/busy", "/ok?a=1", "/nope/deeper"].map { L7Peers.url(ip: ip, path: $0) }))
            try client.check(L7Peers.curl([L7Peers.url(ip: ip, path: "/busy?post=1")], extra: ["-X", "POST", "-d", "k=v"]))
            try client.check(L7Peers.curl([L7Peers.url(ip: ip, path: "/ok")], extra: ["-I", "--http1.0"]))
            for (name, type) in [("a.svc.lab", "A"), ("v6.svc.lab", "AAAA"), ("nothing.svc.lab", "A"),
                                 ("svc.lab", "MX"), ("outside.example", "A")] {
                _ = try client.run(L7Peers.dig(server: ip, name: name, type: type))
            }
            Thread.sleep(forTimeInterval: 0.5)
            let records = try agent.stop()
            _ = tshark.signal(SIGINT)
            _ = try tshark.waitUntilExit(timeout: .seconds(10))

            // HTTP: requests and responses per TCP stream, paired in order (HTTP/1.x).
            let http = try Shell.check(["/usr/bin/tshark", "-n", "-r", capture.path, "-Y", "http.request or http.response",
                                        "-T", "fields", "-E", "separator=|", "-e", "tcp.stream", "-e", "http.request.method",
                                        "-e", "http.request.uri", "-e", "http.response.code"]).stdout
            var requests: [String: [String]] = [:], responses: [String: [String]] = [:]
            for line in http.split(separator: "\n") {
                let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                guard f.count == 4 else { continue }
                if !f[1].isEmpty { requests[f[0], default: []].append("\(f[1]) \(f[2])") }
                if !f[3].isEmpty { responses[f[0], default: []].append(f[3]) }
            }
            var tsharkHTTP: [String] = []
            for (stream, reqs) in requests {
                let codes = responses[stream] ?? []
                for (i, r) in reqs.enumerated() where i < codes.count { tsharkHTTP.append("\(r) \(codes[i])") }
            }
            let ours = records.l7("http", netns: client.netnsInode).map {
                "\($0.string("http_request_method")) \($0.string("http_request_uri")) \($0.int("http_status_code"))"
            }
            print("tshark http exchanges: \(tsharkHTTP.count), ours: \(ours.count)")
            #expect(tsharkHTTP.count == 7)
            #expect(ours.sorted() == tsharkHTTP.sorted())

            // DNS: every answer's id, name and rcode.
            let answers = try Shell.check(["/usr/bin/tshark", "-n", "-r", capture.path, "-Y", "dns.flags.response == 1",
                                           "-T", "fields", "-E", "separator=|", "-e", "dns.id", "-e", "dns.qry.name",
                                           "-e", "dns.flags.rcode"]).stdout
            let rcodes = [0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"]
            let tsharkDNS = answers.split(separator: "\n").compactMap { line -> String? in
                let f = line.split(separator: "|").map(String.init)
                guard f.count == 3, let id = Int(f[0].dropFirst(2), radix: 16), let rc = Int(f[2]) else { return nil }
                return "\(id) \(f[1]) \(rcodes[rc] ?? "RCODE\(rc)")"
            }
            let ourDNS = records.l7("dns", netns: client.netnsInode).map {
                "\($0.int("dns_transaction_id")) \($0.string("dns_query_domain")) \($0.string("dns_response_code"))"
            }
            print("tshark dns answers: \(tsharkDNS.sorted()), ours: \(ourDNS.sorted())")
            #expect(tsharkDNS.count == 5)
            #expect(ourDNS.sorted() == tsharkDNS.sorted())
        }
    }
}
