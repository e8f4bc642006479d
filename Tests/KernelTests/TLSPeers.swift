import Foundation
import NodeLab

/// Real TLS peers for the TLS tests: nginx serving HTTPS (HTTP/1.1 and HTTP/2) with a
/// certificate the test makes with openssl, curl and Python's `ssl` as clients.
enum TLSPeers {
    /// A private nginx on `ip`:443 (TLS, HTTP/1.1 and h2 by ALPN) and `ip`:8080 (h2c, prior
    /// knowledge), one process, with the answers of `L7Peers.Nginx` plus a gRPC-looking path.
    struct Nginx {
        let dir: URL
        let argv: [String]

        init(ip: String) throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("netobs-tls-nginx-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let p = dir.path
            try makeCertificate(in: dir, ip: ip)
            let host = ip.contains(":") ? "[\(ip)]" : ip
            let config = """
                daemon off;
                master_process off;
                worker_processes 1;
                pid \(p)/nginx.pid;
                error_log \(p)/error.log;
                events { worker_connections 256; }
                http {
                    access_log off;
                    client_body_temp_path \(p)/body;
                    proxy_temp_path \(p)/proxy;
                    fastcgi_temp_path \(p)/fastcgi;
                    uwsgi_temp_path \(p)/uwsgi;
                    scgi_temp_path \(p)/scgi;
                    keepalive_requests 100000;
                    http2_max_concurrent_streams 256;
                    server {
                        listen \(host):443 ssl http2;
                        listen \(host):8080 http2;
                        ssl_certificate \(p)/cert.pem;
                        ssl_certificate_key \(p)/key.pem;
                        location = /ok { return 200 "ok\\n"; }
                        location = /missing { return 404; }
                        location = /busy { return 503; }
                        location /slow/ { return 200 "slow\\n"; }
                    }
                }
                """
            try config.write(to: dir.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
            argv = ["/usr/sbin/nginx", "-p", p + "/", "-c", p + "/nginx.conf"]
        }

        func remove() { try? FileManager.default.removeItem(at: dir) }
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

    struct RunningNginx {
        let config: Nginx
        let process: LabProcess

        var certificate: String { config.dir.appendingPathComponent("cert.pem").path }

        func stop() {
            _ = process.terminate()
            config.remove()
        }
    }

    static func runNginx(in server: Pod, ip: String, reachableFrom client: Pod) throws -> RunningNginx {
        let config = try Nginx(ip: ip)
        do {
            let running = RunningNginx(config: config, process: try server.spawn(config.argv))
            do {
                try L7Peers.waitForListener(in: client, ip: ip, port: 443)
            } catch {
                running.stop()
                throw error
            }
            return running
        } catch {
            config.remove()
            throw error
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
