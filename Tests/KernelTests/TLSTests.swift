import Foundation
import NodeLab
import Testing

/// HTTP over TLS read from OpenSSL's plaintext (uprobes on libssl): nginx serving HTTPS with a
/// certificate made here, curl and Python's ssl as clients, in lab pods. Every exchange must
/// come once on the client's side and once on the server's, `http_tls: true`, with the method,
/// URI, version and status the peers sent and got. Uprobes are program type kprobe, which
/// loads whether or not the host allows `tracing` programs; a host without them says so.
@Suite(.serialized, rootOnly)
struct TLSTests {
    private static func exchange(_ r: FlowRecord) -> String {
        "\(r.string("http_request_method")) \(r.string("http_request_uri")) \(r.string("http_request_version")) \(r.int("http_status_code"))"
    }

    /// The agent's TLS hook, or why the host cannot run it (then the test is not meaningful).
    private static func uprobesOrSkip() throws -> Bool {
        let features = try AgentFeatures.read()
        guard let uprobes = features["uprobes"] as? [String: Any], uprobes["available"] as? Bool == true else {
            print("skipped: this host has no uprobes (program type kprobe or CONFIG_UPROBES missing): \(features)")
            return false
        }
        return true
    }

    @Test(arguments: [false, true])
    func curlOverHTTPSRecordsEveryExchangeOnBothEnds(ipv6: Bool) throws {
        guard try Self.uprobesOrSkip() else { return }
        try TLSPeers.withNginx(ipv6: ipv6) { client, server, ip, nginx in
            let agent = try AgentRun()
            let ca = nginx.certificate
            let url = { (path: String) in TLSPeers.url(ip: ip, path: path) }

            let longQuery = "/ok?pad=" + String(repeating: "x", count: 200)
            let keepAlive = try client.check(TLSPeers.curl(["/ok", "/missing", "/busy"].map(url), ca: ca, extra: ["--http1.1"]))
            let answers = keepAlive.stdout.split(separator: "\n").map { $0.split(separator: " ") }
            #expect(answers.map { $0.first ?? "" } == ["200", "404", "503"])
            #expect(answers.reduce(0) { $0 + (Int($1[1]) ?? 0) } == 1, "one connection: \(keepAlive.stdout)")
            let post = try client.check(TLSPeers.curl([url("/busy?x=1")], ca: ca, extra: ["--http1.1", "-X", "POST", "-d", "a=b"]))
            #expect(post.stdout.hasPrefix("503"))
            let head = try client.check(TLSPeers.curl([url("/ok?q=1")], ca: ca, extra: ["--http1.1", "-I"]))
            #expect(head.stdout.hasPrefix("200"))
            let put = try client.check(TLSPeers.curl([url("/missing")], ca: ca, extra: ["--http1.1", "-X", "PUT", "-d", "x"]))
            #expect(put.stdout.hasPrefix("404"))
            try client.check(TLSPeers.curl([url(longQuery)], ca: ca, extra: ["--http1.1"]))
            Thread.sleep(forTimeInterval: 0.5)
            let records = try agent.stop()

            let expected = [
                "GET /ok HTTP/1.1 200", "GET /missing HTTP/1.1 404", "GET /busy HTTP/1.1 503",
                "POST /busy?x=1 HTTP/1.1 503", "HEAD /ok?q=1 HTTP/1.1 200", "PUT /missing HTTP/1.1 404",
                "GET \(longQuery.prefix(128)) HTTP/1.1 200",
            ]
            let tls = records.filter { $0.kind == "http" && $0.bool("http_tls") }
            let clientSide = tls.filter { $0.uint("netns") == client.netnsInode }
            let serverSide = tls.filter { $0.uint("netns") == server.netnsInode }
            #expect(clientSide.map(Self.exchange).sorted() == expected.sorted(), "\(agent.stderrText)")
            #expect(serverSide.map(Self.exchange).sorted() == expected.sorted())
            #expect(tls.count == clientSide.count + serverSide.count)
            for r in clientSide {
                #expect(r.string("role") == "client")
                #expect(r.string("comm") == "curl")
                #expect(r.string("src_ip") == client.address(ipv6: ipv6))
                #expect(r.string("dst_ip") == ip && r.int("dst_port") == 443)
                #expect(r.int("ip_version") == (ipv6 ? 6 : 4))
                #expect(r.uint("cgroup_id") == client.cgroupID)
                #expect(r.uint("http_duration") > 0)
                #expect(r.bool("http_request_uri_truncated") == r.string("http_request_uri").hasPrefix("/ok?pad="))
            }
            for r in serverSide {
                #expect(r.string("role") == "server")
                #expect(r.string("comm") == "nginx")
                #expect(r.int("pid") == Int(nginx.process.pid))
                #expect(r.string("src_ip") == ip && r.int("src_port") == 443)
                #expect(r.string("dst_ip") == client.address(ipv6: ipv6))
                #expect(r.uint("cgroup_id") == server.cgroupID)
                #expect(r.uint("http_duration") > 0)
            }
            // The client waits at least as long as the server works.
            #expect(clientSide.sum("http_duration") >= serverSide.sum("http_duration"))
            // Nothing parsed from the ciphertext on the wire.
            #expect(records.filter { $0.kind == "http" && !$0.bool("http_tls") && ($0.int("dst_port") == 443 || $0.int("src_port") == 443) }.isEmpty)
            #expect(records.lossTotal("tls_ringbuf_full") == 0)
        }
    }

    /// Python's ssl (SSL_read_ex/SSL_write_ex) started after the agent, on a libssl copy of its own
    /// (LD_LIBRARY_PATH): a file the agent never probed, found from the exec event and the
    /// process's maps, read through /proc/PID/root (the lab's `ip netns exec` gives the process a
    /// mount namespace of its own).
    @Test func pythonClientStartedLaterOnItsOwnLibsslIsCovered() throws {
        guard try Self.uprobesOrSkip() else { return }
        try TLSPeers.withNginx { client, server, ip, nginx in
            let libDir = FileManager.default.temporaryDirectory.appendingPathComponent("netobs-libssl-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: libDir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: libDir) }
            let copy = libDir.appendingPathComponent("libssl.so.3").path
            try FileManager.default.copyItem(atPath: "/lib/x86_64-linux-gnu/libssl.so.3", toPath: copy)
            let agent = try AgentRun()
            #expect(!agent.stderrText.contains(copy))

            let requests = [("GET", "/ok"), ("GET", "/missing"), ("POST", "/busy?x=1"), ("PUT", "/ok?p=1"), ("DELETE", "/missing")]
            let argv = ["env", "LD_LIBRARY_PATH=\(libDir.path)"]
                + TLSPeers.pythonClient(ip: ip, ca: nginx.certificate, requests: requests, delay: 1.5)
            let run = try client.check(argv)
            let statuses = run.stdout.split(separator: "\n").map(String.init)
            #expect(statuses == ["200", "404", "503", "200", "404"])
            Thread.sleep(forTimeInterval: 0.5)
            let records = try agent.stop()
            #expect(agent.stderrText.contains("TLS probes on \(copy)"), "\(agent.stderrText)")

            let expected = zip(requests, statuses).map { "\($0.0) \($0.1) HTTP/1.1 \($1)" }
            let tls = records.filter { $0.kind == "http" && $0.bool("http_tls") }
            let clientSide = tls.filter { $0.uint("netns") == client.netnsInode }
            let serverSide = tls.filter { $0.uint("netns") == server.netnsInode }
            #expect(clientSide.map(Self.exchange).sorted() == expected.sorted(), "\(agent.stderrText)")
            #expect(serverSide.map(Self.exchange).sorted() == expected.sorted())
            #expect(clientSide.allSatisfy { $0.string("comm").hasPrefix("python3") && $0.string("role") == "client"
                && $0.int("dst_port") == 443 && $0.uint("cgroup_id") == client.cgroupID })
            #expect(serverSide.allSatisfy { $0.string("comm") == "nginx" && $0.string("role") == "server" })
        }
    }

    /// Rule "tls": false keeps the probes attached but silent; true again (SIGHUP re-reads the
    /// rules file) and they report, with no reload of the TLS programs.
    @Test func tlsRuleTurnsTheProbesOffAndOnWithoutReload() throws {
        guard try Self.uprobesOrSkip() else { return }
        try TLSPeers.withNginx { client, _, ip, nginx in
            let (tls, agent) = try exchangesAcrossARulesChange(client, ip, nginx, first: #"{"tls": false}"#,
                                                               second: #"{"tls": true}"#, applied: "collect everything")
            #expect(tls == ["curl GET /missing HTTP/1.1 404", "nginx GET /missing HTTP/1.1 404"], "\(agent.stderrText)")
        }
    }

    /// Rule "tls_binaries": exclude curl (only nginx's side is seen), then include only curl
    /// (SIGHUP re-reads the file): the probes stay attached, the processes are chosen by their
    /// executable's name.
    @Test func tlsBinariesRuleChoosesProcessesByExecutable() throws {
        guard try Self.uprobesOrSkip() else { return }
        try TLSPeers.withNginx { client, _, ip, nginx in
            let (tls, agent) = try exchangesAcrossARulesChange(client, ip, nginx,
                first: #"{"tls_binaries": {"mode": "exclude", "values": ["curl"]}}"#,
                second: #"{"tls_binaries": {"mode": "include", "values": ["curl"]}}"#, applied: "tls include curl")
            #expect(tls == ["curl GET /missing HTTP/1.1 404", "nginx GET /ok HTTP/1.1 200"], "\(agent.stderrText)")
        }
    }

    /// Cgroup rules hold for HTTP over TLS too: including the server pod keeps nginx's side only,
    /// excluding it (SIGHUP re-reads the file) keeps curl's side only.
    @Test func cgroupRulesChooseWhichSideOfTLSIsRecorded() throws {
        guard try Self.uprobesOrSkip() else { return }
        try TLSPeers.withNginx { client, server, ip, nginx in
            let (tls, agent) = try exchangesAcrossARulesChange(client, ip, nginx,
                first: #"{"cgroups": {"mode": "include", "values": [\#(server.cgroupID)]}}"#,
                second: #"{"cgroups": {"mode": "exclude", "values": [\#(server.cgroupID)]}}"#, applied: "cgroups exclude 1",
                firstRecorded: #""http_request_uri":"/ok""#)
            #expect(tls == ["curl GET /missing HTTP/1.1 404", "nginx GET /ok HTTP/1.1 200"], "\(agent.stderrText)")
        }
    }

    /// curl GET /ok under the `first` rules, SIGHUP to the `second` (the agent logs `applied`),
    /// curl GET /missing: the TLS exchanges recorded, "COMM METHOD URI VERSION STATUS", sorted.
    /// `firstRecorded`: wait for this text in the records before the change.
    private func exchangesAcrossARulesChange(_ client: Pod, _ ip: String, _ nginx: L7Peers.RunningNginx, first: String,
                                             second: String, applied: String,
                                             firstRecorded: String? = nil) throws -> ([String], AgentRun) {
        let file = try L7Peers.rulesFile(first)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let agent = try AgentRun(extraArguments: ["--rules", file])
        try client.check(TLSPeers.curl([TLSPeers.url(ip: ip, path: "/ok")], ca: nginx.certificate, extra: ["--http1.1"]))
        if let firstRecorded { try agent.waitForStdout(firstRecorded, timeout: 10) }
        try second.write(toFile: file, atomically: true, encoding: .utf8)
        agent.send(SIGHUP)
        try agent.waitForStderr("rules applied from \(file): \(applied)", timeout: 20)
        try client.check(TLSPeers.curl([TLSPeers.url(ip: ip, path: "/missing")], ca: nginx.certificate, extra: ["--http1.1"]))
        Thread.sleep(forTimeInterval: 0.5)
        let records = try agent.stop()
        let tls = records.filter { $0.kind == "http" && $0.bool("http_tls") }
        return (tls.map { "\($0.string("comm")) \(Self.exchange($0))" }.sorted(), agent)
    }

    /// A program with OpenSSL linked in statically: the probes on libssl cannot see it, and the
    /// agent says so with one `tls_unsupported` record for the process.
    @Test func staticallyLinkedOpenSSLIsReportedUnsupported() throws {
        guard try Self.uprobesOrSkip() else { return }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netobs-static-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("client.c")
        try """
            #include <openssl/ssl.h>
            #include <arpa/inet.h>
            #include <stdio.h>
            #include <string.h>
            #include <unistd.h>
            int main(int argc, char **argv) {
                SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
                int fd = socket(AF_INET, SOCK_STREAM, 0);
                struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(443)};
                inet_pton(AF_INET, argv[1], &a.sin_addr);
                if (connect(fd, (struct sockaddr *)&a, sizeof(a))) return 2;
                SSL *ssl = SSL_new(ctx);
                SSL_set_fd(ssl, fd);
                if (SSL_connect(ssl) != 1) return 3;
                const char *req = "GET /ok HTTP/1.1\\r\\nHost: lab\\r\\nConnection: close\\r\\n\\r\\n";
                SSL_write(ssl, req, strlen(req));
                char buf[4096];
                int n = SSL_read(ssl, buf, sizeof(buf));
                printf("%.12s\\n", n > 0 ? buf : "none");
                sleep(2);
                return 0;
            }
            """.write(to: source, atomically: true, encoding: .utf8)
        let binary = dir.appendingPathComponent("static-tls-client").path
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
        cc.arguments = ["-o", binary, source.path, "/usr/lib/x86_64-linux-gnu/libssl.a", "/usr/lib/x86_64-linux-gnu/libcrypto.a",
                        "-lpthread", "-ldl"]
        try cc.run()
        cc.waitUntilExit()
        try #require(cc.terminationStatus == 0, "cc could not link libssl.a statically")
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let nginx = try TLSPeers.runNginx(in: server, ip: server.ipv4, reachableFrom: client)
            defer { nginx.stop() }
            let agent = try AgentRun()
            let process = try client.spawn([binary, server.ipv4])
            _ = try process.waitUntilExit(timeout: .seconds(30))
            #expect(process.stdoutString.hasPrefix("HTTP/1.1 200"), "\(process.stderrString)")
            Thread.sleep(forTimeInterval: 0.5)
            let records = try agent.stop()
            let unsupported = records.filter { $0.kind == "tls_unsupported" && $0.int("pid") == Int(process.pid) }
            #expect(unsupported.count == 1, "\(records.filter { $0.kind == "tls_unsupported" })")
            #expect(unsupported.first?.string("tls_library") == "openssl-static")
            #expect(unsupported.first?.uint("cgroup_id") == client.cgroupID)
            // Its exchange is not seen through TLS (the server's side is: nginx uses libssl).
            let tls = records.filter { $0.kind == "http" && $0.bool("http_tls") }
            #expect(tls.filter { $0.uint("netns") == client.netnsInode }.isEmpty)
            #expect(tls.filter { $0.uint("netns") == server.netnsInode }.map(Self.exchange) == ["GET /ok HTTP/1.1 200"])
        }
    }
}

/// `netobs-agent --features` as JSON.
enum AgentFeatures {
    static func read() throws -> [String: Any] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: AgentRun.binary)
        p.arguments = ["--features", "--hooks", AgentRun.tier]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }
}
