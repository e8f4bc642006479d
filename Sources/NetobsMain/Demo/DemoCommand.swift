import ArgumentParser
import Foundation
import NetobsDemo

/// `netobs demo`: the whole system on this machine, as in the paper's case study.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a Sock-Shop-like application on lab pods under load, inject a scenario's faults, watch it with netobs.",
        discussion: """
            Builds network-namespace pods on this machine (front-end, catalogue, carts, carts-db \
            (Redis), orders, payment, shipping, user in namespace sock-shop; kube-dns (dnsmasq) in \
            kube-system; a wrk load generator), starts the controller with the pods' topology, an \
            agent and a consumer, drives the shop at a steady rate and injects the scenario's \
            faults on its clock (t=0 when the load starts):
              loss   iptables DROP of PERCENT% of the pod's packets, both ways
              delay  the service waits MS before every answer
              reset  TCP reset for PERCENT% (default 100) of the segments to
                     the pod's port (iptables REJECT --reject-with tcp-reset)
              dns    kube-dns answers NXDOMAIN for the pod's service name
              kill   the pod's process is killed, and restarted when the fault ends
              cpu    the pod's processes get PERCENT% of one CPU (CFS quota)
              partition  every packet between the pod and PEER is dropped
              bandwidth  what the pod sends is capped at KBIT kbit/s (tbf)
            --random-scenario SEED makes a random scenario instead (any kind on any \
            application pod, random magnitudes and times, sometimes two faults at once, a random \
            load); the same seed gives the same scenario, written to the run's scenario.yaml.
            Writes into the output directory: records.jsonl (the joined stream), labels.jsonl (when \
            each fault was really in place), topology.json, scenario.yaml, run.json, logs/, and, \
            when this build has `netobs detect` and `netobs eval`, anomalies.jsonl and report.json.
            Ctrl-C or SIGTERM tears everything down (pods, cgroups, iptables rules, processes).
            Needs root and the packages of scripts/setup.sh.
            """)

    @Option(help: ArgumentHelp("Scenario file (YAML: duration, faults).", valueName: "file"))
    var scenario: String?

    @Option(help: ArgumentHelp("Make a random scenario from this seed instead of reading one.", valueName: "seed"))
    var randomScenario: UInt64?

    @Option(help: ArgumentHelp("Faults of the random scenario (default: 3 or 4, by the seed).", valueName: "n"))
    var faults: Int?

    @Option(help: ArgumentHelp("Output directory, new or empty (default: demo-out/run-<time>).", valueName: "dir"))
    var out: String?

    @Option(help: ArgumentHelp("Run this long instead of the scenario's duration (e.g. 3m); faults must still fit.", valueName: "duration"))
    var duration: String?

    @Option(help: "Connections of the load generator, each sending a request every ~150 ms (default: the scenario's load_connections, else 6).")
    var loadConnections: Int?

    @Option(help: ArgumentHelp("Agent flush interval.", valueName: "duration"))
    var interval = "1s"

    @Option(help: ArgumentHelp("Directory with netobs and netobs-agent (default: this binary's).", valueName: "dir"))
    var binDir: String?

    @Option(help: ArgumentHelp("The demo application's directory (default: scripts/demo-app of the repository).", valueName: "dir"))
    var appDir: String?

    @Flag(help: "Check the scenario, print its timeline and exit.")
    var checkOnly = false

    @Flag(help: "Compress records.jsonl at the end (records.jsonl.zst with zstd, else .gz); netobs detect and eval read it.")
    var compressRecords = false

    func validate() throws {
        if let duration, DurationText.parse(duration) == nil {
            throw ValidationError("--duration '\(duration)' is not a duration (examples: 90s, 3m, 1m30s)")
        }
        if let loadConnections, !(1...256).contains(loadConnections) { throw ValidationError("--load-connections must be 1...256") }
        if randomScenario != nil && scenario != nil { throw ValidationError("give --scenario or --random-scenario, not both") }
        if let faults, !(1...RandomScenario.maxFaults).contains(faults) {
            throw ValidationError("--faults must be 1...\(RandomScenario.maxFaults)")
        }
        if faults != nil && randomScenario == nil { throw ValidationError("--faults goes with --random-scenario") }
        guard let ns = DurationText.parse(interval), ns >= 100_000_000 else {
            throw ValidationError("--interval must be a duration of at least 100ms")
        }
    }

    func run() throws {
        let scenarioPath = try randomScenario.map { "random scenario \($0)" }
            ?? scenario ?? RepositoryFiles.find("scenarios/default.yaml", what: "the default scenario (give --scenario)")
        var parsed: Scenario
        let text: String
        do {
            if let seed = randomScenario {
                text = RandomScenario.make(seed: seed, faults: faults, loadConnections: loadConnections).yaml
            } else {
                text = try String(contentsOfFile: scenarioPath, encoding: .utf8)
            }
            parsed = try ScenarioParser.parse(yaml: text, source: scenarioPath)
            if let duration { parsed.durationNs = DurationText.parse(duration)! }
            try ScenarioValidator.validate(parsed, source: scenarioPath + (duration.map { " with --duration \($0)" } ?? ""))
        } catch let error as ScenarioError {
            throw CommandFailure(error.description)
        } catch {
            throw CommandFailure("cannot read \(scenarioPath): \(error.localizedDescription)")
        }
        let connections = loadConnections ?? parsed.loadConnections ?? 6
        print("scenario \(scenarioPath): \(DurationText.format(parsed.durationNs)), \(parsed.faults.count) faults, load \(connections) connections")
        for fault in parsed.faults.sorted(by: { $0.atNs < $1.atNs }) { print("  \(fault)") }
        if checkOnly {
            if randomScenario != nil { print("", text, separator: "\n", terminator: "") }
            return
        }
        fflush(nil)   // stdout, before the run's progress on stderr

        let app = try appDir ?? RepositoryFiles.find("scripts/demo-app", what: "the demo application (give --app-dir)")
        let bin = binDir ?? URL(fileURLWithPath: CommandLine.executablePath).deletingLastPathComponent().path
        let outDir = out ?? "demo-out/run-" + Self.timestamp()
        var options = DemoRun.Options(scenario: parsed, scenarioText: text, layout: DemoLayout(out: outDir),
                                      tools: NetobsTools(directory: bin), appDirectory: app)
        options.loadConnections = connections
        options.agentInterval = interval
        options.compressRecords = compressRecords
        let result: DemoRun.Result
        do {
            try DemoPreflight.check(appDirectory: app)
            result = try DemoRun(options).run()
        } catch let error as DemoError {
            throw CommandFailure(error.description)
        } catch {
            throw CommandFailure("\(error)")
        }
        DemoReport.print(result, layout: options.layout)
    }

    static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }
}

extension CommandLine {
    /// This executable's path (/proc/self/exe, so a PATH lookup or a symlink does not matter).
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? arguments[0]
    }
}
