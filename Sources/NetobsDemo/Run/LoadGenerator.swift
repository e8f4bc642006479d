import Foundation
import NodeLab
#if canImport(Glibc)
import Glibc
#endif

/// wrk in the load generator's pod, driving the front-end with scripts/demo-app/load.lua:
/// a shopper's mix of URIs, each connection pausing between requests for a steady rate.
final class LoadGenerator: @unchecked Sendable {
    struct Settings: Sendable {
        var connections = 6
        var pauseMs = 150
    }

    /// wrk's own summary at the end.
    struct Summary: Sendable, Equatable {
        var requests = 0
        var non2xx = 0
        /// connect, read, write and timeout errors.
        var socketErrors = 0
    }

    private let process: LabProcess

    init(cluster: DemoCluster, settings: Settings, durationNs: Int64) throws {
        // wrk stops on its own well after the scenario, should we fail to stop it.
        let seconds = durationNs / 1_000_000_000 + 120
        process = try cluster.loadPod.spawn(
            ["wrk", "-t", "1", "-c", String(settings.connections), "-d", "\(seconds)s", "--timeout", "5s",
             "-s", cluster.appDirectory + "/load.lua", "http://front-end.\(SockShop.appNamespace)/"],
            environment: ["DELAY_MS": String(settings.pauseMs)])
    }

    var pid: Int32 { process.pid }

    func checkAlive() throws {
        if let ended = process.termination {
            throw DemoError("the load generator (wrk) ended early (\(ended)): \(process.stderrString)\(process.stdoutString)")
        }
    }

    /// SIGINT makes wrk print its summary and exit.
    func stop() -> Summary {
        process.signal(SIGINT)
        if (try? process.waitUntilExit(timeout: .seconds(10))) == nil { process.terminate() }
        return Self.parse(process.stdoutString)
    }

    /// "12345 requests in 1.00m, ...", "Non-2xx or 3xx responses: 12",
    /// "Socket errors: connect 1, read 2, write 0, timeout 3".
    static func parse(_ output: String) -> Summary {
        var summary = Summary()
        for line in output.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.contains(" requests in ") {
                summary.requests = Int(line.split(separator: " ").first ?? "") ?? 0
            } else if line.hasPrefix("Non-2xx or 3xx responses:") {
                summary.non2xx = Int(line.split(separator: " ").last ?? "") ?? 0
            } else if line.hasPrefix("Socket errors:") {
                summary.socketErrors = line.split(separator: ",").compactMap { Int($0.split(separator: " ").last ?? "") }.reduce(0, +)
            }
        }
        return summary
    }
}
