import Foundation
import NodeLab

/// One run of the demo, start to finish:
///  1. the cluster (pods, kube-dns, Redis, the services; checked through DNS names);
///  2. netobs (certificates, controller with the topology file, consumer -> records.jsonl, agent);
///  3. the load (wrk) and, on the scenario's clock from the load's start, the faults;
///     labels.jsonl gets each fault's real start and end once it is removed;
///  4. stop in order (load, agent flush, consumer, controller), tear everything down;
///  5. `netobs detect` and `netobs eval` when this build has them.
/// On error, Ctrl-C or SIGTERM nothing is left behind: see DemoCluster.stop and NetobsStack.
public final class DemoRun: @unchecked Sendable {
    public struct Options: Sendable {
        public var scenario: Scenario
        public var scenarioText: String
        public var layout: DemoLayout
        public var tools: NetobsTools
        /// Holds service.py, probe.py and load.lua.
        public var appDirectory: String
        public var node = "demo-node"
        public var agentInterval = "1s"
        public var loadConnections = 6
        public var loadPauseMs = 150
        /// How long the agent keeps collecting after the load stopped (last exchanges, closes).
        public var drainSeconds: Double = 3
        /// Replace records.jsonl by a compressed copy once the analysis has read it.
        public var compressRecords = false

        public init(scenario: Scenario, scenarioText: String, layout: DemoLayout, tools: NetobsTools, appDirectory: String) {
            self.scenario = scenario
            self.scenarioText = scenarioText
            self.layout = layout
            self.tools = tools
            self.appDirectory = appDirectory
        }
    }

    /// Calls into a running demo, for tests that check its effects from the inside.
    public struct Hooks: Sendable {
        public var serving: (@Sendable (DemoCluster) throws -> Void)?
        public var faultStarted: (@Sendable (Fault, DemoCluster) throws -> Void)?
        /// After the load, with netobs still up: the dashboard's address.
        public var loadStopped: (@Sendable (_ dashboardURL: String) throws -> Void)?
        public init(serving: (@Sendable (DemoCluster) throws -> Void)? = nil,
                    faultStarted: (@Sendable (Fault, DemoCluster) throws -> Void)? = nil,
                    loadStopped: (@Sendable (_ dashboardURL: String) throws -> Void)? = nil) {
            self.serving = serving
            self.faultStarted = faultStarted
            self.loadStopped = loadStopped
        }
    }

    public struct Result: Sendable {
        public var labels: [FaultLabel] = []
        public var records = 0
        public var httpRecords = 0
        public var loadRequests = 0
        public var loadNon2xx = 0
        public var loadSocketErrors = 0
        public var loadStartNs: Int64 = 0
        public var loadEndNs: Int64 = 0
        /// What the run could not do (e.g. a failed analysis step), in words.
        public var notices: [String] = []
        public var anomalies: Int?
        public var reportWritten = false
        /// records.jsonl, or its compressed copy.
        public var recordsFile = "records.jsonl"
        /// Records the controller dropped for the consumer writing records.jsonl (it read too
        /// slowly): missing from the recorded run.
        public var consumerDropped = 0
    }

    let options: Options
    let progress: ProgressDisplay
    let counter: RecordCounter

    public init(_ options: Options) {
        self.options = options
        counter = RecordCounter(path: options.layout.records)
        progress = ProgressDisplay(counter: counter, anomaliesPath: options.layout.anomalies)
    }

    public func run(hooks: Hooks = Hooks()) throws -> Result {
        let layout = options.layout
        try options.tools.check()
        try layout.create()
        try options.scenarioText.write(toFile: layout.scenario, atomically: true, encoding: .utf8)
        progress.update { $0.durationNs = options.scenario.durationNs; $0.faultsTotal = options.scenario.faults.count }
        progress.start()
        defer { progress.stop() }
        var result = Result()

        phase("building the cluster")
        let cluster = try DemoCluster.start(layout: layout, appDirectory: options.appDirectory, say: progress.event)
        let cleanup = ExitCleanup.register { cluster.stop() }
        defer {
            cluster.stop()
            ExitCleanup.unregister(cleanup)
        }
        do {
            try run(on: cluster, hooks: hooks, into: &result)
        } catch {
            if cluster.wasInterrupted { Interruption.awaitExit(say: progress.event) }
            throw error
        }
        return result
    }

    private func run(on cluster: DemoCluster, hooks: Hooks, into result: inout Result) throws {
        let layout = options.layout
        try hooks.serving?(cluster)
        try DemoTopology.json(node: options.node, nodeIPs: ["127.0.0.1"], pods: cluster.pods)
            .write(to: URL(fileURLWithPath: layout.topology))

        phase("starting netobs")
        let stack = NetobsStack(tools: options.tools, layout: layout, lab: cluster.lab,
                                settings: .init(node: options.node, interval: options.agentInterval))
        try stack.start(say: progress.event)

        phase("load + faults")
        let load = try LoadGenerator(cluster: cluster, settings: .init(connections: options.loadConnections, pauseMs: options.loadPauseMs),
                                     durationNs: options.scenario.durationNs)
        let start = Date()
        result.loadStartNs = Self.nowNs()
        progress.update { $0.loadStart = start }
        progress.event("load: wrk with \(options.loadConnections) connections, \(options.loadPauseMs) ms pause, on http://front-end.sock-shop/")
        do {
            result.labels = try playScenario(from: start, cluster: cluster, hooks: hooks) {
                try load.checkAlive()
                try stack.checkAlive()
            }
        } catch {
            _ = load.stop()
            throw error
        }
        let summary = load.stop()
        result.loadEndNs = Self.nowNs()
        (result.loadRequests, result.loadNon2xx, result.loadSocketErrors) = (summary.requests, summary.non2xx, summary.socketErrors)
        progress.event("load stopped: \(summary.requests) requests, \(summary.non2xx) non-2xx, \(summary.socketErrors) socket errors")

        phase("collecting the last records")
        Thread.sleep(forTimeInterval: options.drainSeconds)
        if let url = stack.dashboardURL { try hooks.loadStopped?(url) }   // a failure tears down like any other
        stack.stop()
        (result.records, result.httpRecords) = counter.count()
        progress.event("\(result.records) records (\(result.httpRecords) http) in \(layout.records)")
        result.consumerDropped = Self.consumerDropped(log: LogFiles.text(layout.log("tail")))
        if result.consumerDropped > 0 {
            result.notices.append("the consumer writing records.jsonl read too slowly: the controller dropped \(result.consumerDropped) records for it (see logs/tail.log)")
        }

        phase("tearing down")
        cluster.stop()

        phase("analysis")
        result.notices += analyse(&result)
        if options.compressRecords {
            phase("compressing the records")
            do {
                result.recordsFile = try RecordCompression.compress(layout.records)
                progress.event("records -> \(result.recordsFile)")
            } catch {
                result.notices.append("records not compressed: \(error)")
            }
        }
        try writeSummary(result)
        for notice in result.notices { progress.event("notice: " + notice) }
        phase("done")
    }

    /// Runs the timeline; returns the labels of every fault (written as each one ends).
    private func playScenario(from start: Date, cluster: DemoCluster, hooks: Hooks,
                              check: () throws -> Void) throws -> [FaultLabel] {
        let faults = options.scenario.faults
        let injector = FaultInjector(cluster: cluster)
        var startedAt: [Int: Int64] = [:]
        var labels: [FaultLabel] = []
        let labelFile = try LabelFile(path: options.layout.labels)
        do {
            for event in FaultTimeline(options.scenario).events {
                try wait(until: start.addingTimeInterval(Double(event.atNs) / 1e9), cluster: cluster, check: check)
                switch event.action {
                case .start(let i):
                    try injector.start(faults[i])
                    startedAt[i] = Self.nowNs()
                    progress.update { $0.faultsStarted += 1; $0.active.append("\(faults[i].kind.name) \(faults[i].pod)") }
                    progress.event("fault started: \(faults[i])")
                    try hooks.faultStarted?(faults[i], cluster)
                case .stop(let i):
                    let effect = try injector.stop(faults[i])
                    let label = FaultLabel(fault: faults[i], startNs: startedAt.removeValue(forKey: i)!, endNs: Self.nowNs(), effect: effect)
                    try labelFile.append(label)
                    labels.append(label)
                    progress.update { $0.active.removeAll { $0 == "\(faults[i].kind.name) \(faults[i].pod)" } }
                    let measured = effect.isEmpty ? "" : " (" + effect.sorted { $0.key < $1.key }.map { "\($0.key) \(Int($0.value))" }.joined(separator: ", ") + ")"
                    progress.event("fault ended: \(faults[i].kind.name) on \(faults[i].pod)\(measured)")
                }
            }
            try wait(until: start.addingTimeInterval(Double(options.scenario.durationNs) / 1e9), cluster: cluster, check: check)
        } catch {
            // Faults still in place are removed with their pods; label them up to now.
            for (i, began) in startedAt {
                let label = FaultLabel(fault: faults[i], startNs: began, endNs: Self.nowNs(), effect: [:])
                try? labelFile.append(label)
            }
            throw error
        }
        return labels
    }

    private func wait(until deadline: Date, cluster: DemoCluster, check: () throws -> Void) throws {
        while true {
            try cluster.checkAlive()
            try check()
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return }
            Thread.sleep(forTimeInterval: min(left, 0.25))
        }
    }

    /// `netobs detect` over the recorded stream, then `netobs eval` of those anomalies against the labels.
    private func analyse(_ result: inout Result) -> [String] {
        let layout = options.layout
        var notices: [String] = []
        for (command, extra) in [("detect", [String]()), ("eval", ["--existing"])] {
            let argv = [options.tools.netobs, command, "--data", layout.out] + extra
            progress.event("running " + Shell.render(Array(argv.dropFirst())))
            let run = try? Shell.run(argv, timeout: .seconds(600))
            try? ((run?.stdout ?? "") + (run?.stderr ?? "")).write(toFile: layout.log(command), atomically: true, encoding: .utf8)
            if run?.status != 0 {
                notices.append("netobs \(command) failed (status \(run.map { String($0.status) } ?? "?")); see \(layout.log(command))")
            }
        }
        if let text = try? String(contentsOfFile: layout.anomalies, encoding: .utf8) {
            result.anomalies = text.split(separator: "\n").count
        }
        result.reportWritten = FileManager.default.fileExists(atPath: layout.report)
        return notices
    }

    private func writeSummary(_ result: Result) throws {
        let summary: [String: Any] = [
            "load_start_ns": result.loadStartNs, "load_end_ns": result.loadEndNs,
            "duration_ns": options.scenario.durationNs, "faults": result.labels.count,
            "records": result.records, "http_records": result.httpRecords,
            "load_requests": result.loadRequests, "load_non_2xx": result.loadNon2xx,
            "load_socket_errors": result.loadSocketErrors, "anomalies": result.anomalies ?? NSNull(),
            "report_written": result.reportWritten, "notices": result.notices,
            "records_file": result.recordsFile, "load_connections": options.loadConnections,
            "consumer_dropped": result.consumerDropped,
        ]
        try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: options.layout.summary))
    }

    /// Sum of netobs tail's "N records dropped (reading too slowly)" lines.
    static func consumerDropped(log: String) -> Int {
        log.split(separator: "\n").filter { $0.contains("records dropped") }
            .compactMap { line in line.split(separator: " ").first { Int($0) != nil }.flatMap { Int($0) } }
            .reduce(0, +)
    }

    private func phase(_ name: String) {
        progress.update { $0.phase = name }
        progress.event("== \(name)")
    }

    static func nowNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

/// labels.jsonl, appended a line at a time (the file exists from the start, even if empty).
struct LabelFile {
    let path: String

    init(path: String) throws {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil) else { throw DemoError("cannot create \(path)") }
    }

    func append(_ label: FaultLabel) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else { throw DemoError("cannot write \(path)") }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(try label.jsonLine().utf8))
    }
}
