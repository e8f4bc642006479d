import Foundation
import NodeLab

/// Real HTTP and DNS peers for the L7 tests: nginx and dnsmasq as servers, curl, wrk and dig
/// as clients. What they were asked and what they answered is the ground truth.
enum L7Peers {
    /// A private nginx (Debian's nginx-light) in the foreground and in one process (so its pid
    /// is the one that answers); `Nginx(ip:)` listens on `ip`:80 with one answer per status.
    struct Nginx {
        let dir: URL
        let argv: [String]

        init(ip: String) throws {
            let listen = ip.contains(":") ? "[\(ip)]:80" : "\(ip):80"
            try self.init(name: "nginx") { _ in
                """
                listen \(listen);
                \(Nginx.statusAnswers)
                """
            }
        }

        /// `server`: the server block's directives, given nginx's directory; `http`: more http
        /// directives; `prepare` writes files into the directory first (certificates).
        init(name: String, http: String = "", server: (String) -> String, prepare: (URL) throws -> Void = { _ in }) throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("netobs-\(name)-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try prepare(dir)
            let p = dir.path
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
                    \(http)
                    server {
                        \(server(p))
                    }
                }
                """
            try config.write(to: dir.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
            argv = ["/usr/sbin/nginx", "-p", p + "/", "-c", p + "/nginx.conf"]
        }

        static let statusAnswers = """
            location = /ok { return 200 "ok\\n"; }
            location = /missing { return 404; }
            location = /busy { return 503; }
            """

        func remove() { try? FileManager.default.removeItem(at: dir) }
    }

    /// nginx started in `server` on `ip` and accepting connections from `client`.
    struct RunningNginx {
        let config: Nginx
        let process: LabProcess

        func stop() {
            _ = process.terminate()
            config.remove()
        }
    }

    static func runNginx(in server: Pod, ip: String, reachableFrom client: Pod) throws -> RunningNginx {
        try run(Nginx(ip: ip), in: server, ip: ip, port: 80, reachableFrom: client)
    }

    /// Starts `config` in `server`, once `client` can connect to ip:port (stopped and removed if not).
    static func run(_ config: Nginx, in server: Pod, ip: String, port: Int, reachableFrom client: Pod) throws -> RunningNginx {
        do {
            let running = RunningNginx(config: config, process: try server.spawn(config.argv))
            do {
                try waitForListener(in: client, ip: ip, port: port)
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

    /// Waits until something accepts TCP connections on ip:port from `pod`.
    static func waitForListener(in pod: Pod, ip: String, port: Int) throws {
        try pod.check([Peers.python, "-c", """
            import socket, sys, time
            for _ in range(100):
                try:
                    socket.create_connection((sys.argv[1], int(sys.argv[2])), 0.2).close(); sys.exit(0)
                except OSError:
                    time.sleep(0.05)
            sys.exit(1)
            """, ip, String(port)])
    }

    /// One curl run, connections reused across the URLs (keep-alive). Prints per URL the
    /// status and how many connections it opened ("200 1").
    static func curl(_ urls: [String], extra: [String] = []) -> [String] {
        ["curl", "-s", "-w", "%{http_code} %{num_connects}\\n"] + extra + urls.flatMap { ["-o", "/dev/null", $0] }
    }

    static func url(ip: String, path: String) -> String {
        ip.contains(":") ? "http://[\(ip)]\(path)" : "http://\(ip)\(path)"
    }

    /// A wrk Lua script that stops after exactly `count` responses (one connection, so no
    /// request is left in flight); `delayMs` paces each connection's requests.
    static func wrkScript(count: Int, delayMs: Int = 0) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("netobs-wrk-\(UUID().uuidString).lua")
        try """
            local n = 0
            response = function(status, headers, body)
              n = n + 1
              if n >= \(count) then wrk.thread:stop() end
            end
            \(delayMs > 0 ? "delay = function() return \(delayMs) end" : "")
            """.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// "N requests in" from wrk's summary.
    static func wrkRequests(_ output: String) -> Int? {
        guard let line = output.split(separator: "\n").first(where: { $0.contains(" requests in ") }) else { return nil }
        return Int(line.split(separator: " ").first ?? "")
    }

    /// dnsmasq answering svc.lab names from its own config, nothing else (no upstream).
    /// wrk --latency's "Latency Distribution" lines ("     50%  123.45us") as percent -> ns.
    static func wrkLatencyPercentiles(_ output: String) -> [(Double, Double)] {
        let scale: [(String, Double)] = [("us", 1e3), ("ms", 1e6), ("s", 1e9)]
        return output.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 2, fields[0].hasSuffix("%"), let percent = Double(fields[0].dropLast()) else { return nil }
            for (unit, factor) in scale where fields[1].hasSuffix(unit) {
                if let value = Double(fields[1].dropLast(unit.count)) { return (percent, value * factor) }
            }
            return nil
        }
    }

    /// dnsmasq started in `pod` on `ip`, once it says it is up; stop it with `terminate()`.
    static func runDnsmasq(in pod: Pod, ip: String) throws -> LabProcess {
        let process = try pod.spawn(dnsmasq(ip: ip))
        do {
            try process.waitForOutput("started", inStderr: true)
        } catch {
            _ = process.terminate()
            throw error
        }
        return process
    }

    static func dnsmasq(ip: String) -> [String] {
        ["/usr/sbin/dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", "--listen-address=\(ip)",
         "--bind-interfaces", "--port=53", "--user=root", "--pid-file",
         "--address=/a.svc.lab/10.1.2.3", "--address=/v6.svc.lab/fd00::1:2:3",
         "--mx-host=svc.lab,mail.svc.lab,10", "--local=/svc.lab/", "--log-facility=-"]
    }

    /// One dig query: one try, one second.
    static func dig(server: String, port: Int = 53, name: String, type: String) -> [String] {
        ["dig", "@\(server)", "-p", String(port), "+tries=1", "+time=1", "+noedns", name, type]
    }

    /// The transaction id and status from dig's header line
    /// ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 12345".
    static func digHeader(_ output: String) -> (id: Int, status: String)? {
        guard let line = output.split(separator: "\n").first(where: { $0.contains("->>HEADER<<-") }) else { return nil }
        func value(_ key: String) -> String? {
            guard let r = line.range(of: key + ": ") else { return nil }
            return String(line[r.upperBound...].prefix { $0 != "," && $0 != " " })
        }
        guard let id = value("id").flatMap(Int.init), let status = value("status") else { return nil }
        return (id, status)
    }

    /// Sends `count` random payloads to ip:port over TCP (each its own connection) or UDP.
    static func garbage(ip: String, port: Int, udp: Bool, count: Int) -> [String] {
        [Peers.python, "-c", """
            import os, socket, sys
            ip, port, udp, n = sys.argv[1], int(sys.argv[2]), sys.argv[3] == '1', int(sys.argv[4])
            fam = socket.AF_INET6 if ':' in ip else socket.AF_INET
            for i in range(n):
                data = bytes([0x16, 0x03, 0x01]) + os.urandom(40 + i)  # never a method or 'HTTP/'
                if udp:
                    s = socket.socket(fam, socket.SOCK_DGRAM); s.sendto(data[:5 + i % 9], (ip, port)); s.close()
                else:
                    s = socket.create_connection((ip, port), 2); s.sendall(data)
                    s.settimeout(2)
                    try: s.recv(4096)
                    except OSError: pass
                    s.close()
            print('sent', flush=True)
            """, ip, String(port), udp ? "1" : "0", String(count)]
    }
}

extension L7Peers {
    /// A rules file (`--rules`) holding `json`; remove it when done.
    static func rulesFile(_ json: String) throws -> String {
        let path = NSTemporaryDirectory() + "netobs-l7-rules-\(UUID().uuidString).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Agent arguments for rules that make every HTTP/DNS exchange an exemplar record (tests
    /// that check each exchange, not only the aggregates).
    static func everyExchangeRules() throws -> (arguments: [String], file: String) {
        let file = try rulesFile(#"{"l7_sample_every": 1}"#)
        return (["--rules", file], file)
    }
}

extension Array where Element == FlowRecord {
    /// L7 records of `kind` seen by sockets in `netns`.
    func l7(_ kind: String, netns: UInt64) -> [FlowRecord] {
        filter { $0.kind == kind && $0.uint("netns") == netns }
    }

    /// `http_aggregate` / `dns_aggregate` records of one pod's sockets in `role`.
    func aggregates(_ kind: String, cgroup: UInt64, role: String) -> [FlowRecord] {
        filter { $0.kind == kind && $0.uint("cgroup_id") == cgroup && $0.string("role") == role }
    }

    /// Exchanges counted by aggregate records.
    var aggregated: UInt64 { sum("count") }

    /// Count per "method uri version status" (HTTP) or "name type rcode" (DNS) of aggregates.
    var aggregateCounts: [String: UInt64] {
        var out: [String: UInt64] = [:]
        for r in self {
            let key = r.kind == "http_aggregate"
                ? "\(r.string("http_request_method")) \(r.string("http_request_uri")) \(r.string("http_request_version")) \(r.int("http_status_code"))"
                : "\(r.string("dns_query_domain")) \(r.string("dns_query_type")) \(r.string("dns_response_code"))"
            out[key, default: 0] += r.uint("count")
        }
        return out
    }

    /// Whether every aggregate's histogram holds as many exchanges as its count.
    var histogramsMatchCounts: Bool {
        allSatisfy { r in
            let prefix = r.kind == "http_aggregate" ? "http" : "dns"
            let hist = (r[prefix + "_duration_hist_log2_us"] as? [NSNumber])?.reduce(UInt64(0)) { $0 + $1.uint64Value } ?? 0
            return hist == r.uint("count")
        }
    }

    /// The running total of a loss reason at the end of the run.
    func lossTotal(_ reason: String) -> UInt64 {
        filter { $0.kind == "loss" && $0.string("reason") == reason }.map { $0.uint("total") }.max() ?? 0
    }
}
