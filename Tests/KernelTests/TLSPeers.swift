import Foundation
import NodeLab

/// Real TLS peers for the TLS tests: nginx serving HTTPS (HTTP/1.1 and HTTP/2) with a
/// certificate the test makes with openssl, curl and Python's `ssl` as clients.
enum TLSPeers {
    /// A private nginx on `ip`:443 (TLS, HTTP/1.1 and h2 by ALPN) and `ip`:8080 (h2c, prior
    /// knowledge), one process, with the answers of `L7Peers.Nginx` plus a gRPC-looking path.
    static func nginx(ip: String) throws -> L7Peers.Nginx {
        let host = ip.contains(":") ? "[\(ip)]" : ip
        return try L7Peers.Nginx(name: "tls-nginx", http: "http2_max_concurrent_streams 256;", server: { p in
            """
            listen \(host):443 ssl http2;
            listen \(host):8080 http2;
            ssl_certificate \(p)/cert.pem;
            ssl_certificate_key \(p)/key.pem;
            \(L7Peers.Nginx.statusAnswers)
            location /slow/ { return 200 "slow\\n"; }
            """
        }, prepare: { try makeCertificate(in: $0, ip: ip) })
    }

    /// A self-signed P-256 certificate for `ip` (cert.pem, key.pem in `dir`).
    static func makeCertificate(in dir: URL, ip: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                       "-keyout", dir.appendingPathComponent("key.pem").path,
                       "-out", dir.appendingPathComponent("cert.pem").path,
                       "-days", "1", "-subj", "/CN=netobs-lab", "-addext", "subjectAltName=IP:\(ip)"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CertificateFailed() }
    }

    struct CertificateFailed: Error {}

    static func runNginx(in server: Pod, ip: String, reachableFrom client: Pod) throws -> L7Peers.RunningNginx {
        try L7Peers.run(nginx(ip: ip), in: server, ip: ip, port: 443, reachableFrom: client)
    }

    /// Two lab pods, a TLS nginx in the second on its IPv4 (or IPv6) address reachable from the
    /// first: `body(client, server, ip, nginx)`, nginx stopped after it.
    static func withNginx(ipv6: Bool = false, _ body: (Pod, Pod, String, L7Peers.RunningNginx) throws -> Void) throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let ip = server.address(ipv6: ipv6)
            let nginx = try runNginx(in: server, ip: ip, reachableFrom: client)
            defer { nginx.stop() }
            try body(client, server, ip, nginx)
        }
    }

    static func url(ip: String, path: String, scheme: String = "https", port: Int? = nil) -> String {
        let host = ip.contains(":") ? "[\(ip)]" : ip
        return "\(scheme)://\(host)\(port.map { ":\($0)" } ?? "")\(path)"
    }

    /// One curl run over HTTPS (the test's CA), connections reused across the URLs; prints per
    /// URL the status and the connections it opened.
    static func curl(_ urls: [String], ca: String, extra: [String] = []) -> [String] {
        ["curl", "-s", "--cacert", ca, "-w", "%{http_code} %{num_connects} %{http_version}\\n"] + extra
            + urls.flatMap { ["-o", "/dev/null", $0] }
    }

    /// Python's ssl + http.client on one connection: each (method, path) in turn, printing
    /// "status" per answer. `delay` seconds after importing ssl before connecting (a process
    /// whose libssl the agent learns from its exec).
    static func pythonClient(ip: String, ca: String, requests: [(String, String)], delay: Double = 0) -> [String] {
        let list = requests.map { "(\"\($0.0)\", \"\($0.1)\")" }.joined(separator: ", ")
        return [Peers.python, "-c", """
            import ssl, http.client, sys, time
            time.sleep(\(delay))
            ctx = ssl.create_default_context(cafile=sys.argv[2])
            conn = http.client.HTTPSConnection(sys.argv[1], 443, context=ctx)
            for method, path in [\(list)]:
                body = b"a=b" if method in ("POST", "PUT") else None
                conn.request(method, path, body=body)
                r = conn.getresponse()
                r.read()
                print(r.status, flush=True)
            conn.close()
            """, ip, ca]
    }
}

extension L7Peers.RunningNginx {
    /// The self-signed certificate of a TLS nginx (`TLSPeers.nginx`): the clients' CA.
    var certificate: String { config.dir.appendingPathComponent("cert.pem").path }
}
