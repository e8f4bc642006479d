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
            Writes into the output directory: records.jsonl (the joined stream), labels.jsonl (when \
            each fault was really in place), topology.json, scenario.yaml, run.json, logs/, and, \
            when this build has `netobs detect` and `netobs eval`, anomalies.jsonl and report.json.
            Ctrl-C or SIGTERM tears everything down (pods, cgroups, iptables rules, processes).
            Needs root and the packages of scripts/setup.sh.
            """)

    @Option(help: ArgumentHelp("Scenario file (YAML: duration, faults).", valueName: "file"))
    var scenario: String?

    @Option(help: ArgumentHelp("Output directory, new or empty (default: demo-out/run-<time>).", valueName: "dir"))
    var out: String?

    @Option(help: ArgumentHelp("Run this long instead of the scenario's duration (e.g. 3m); faults must still fit.", valueName: "duration"))
    var duration: String?

    @Option(help: "Connections of the load generator; each sends a request every ~150 ms.")
    var loadConnections = 6

    @Option(help: ArgumentHelp("Agent flush interval.", valueName: "duration"))
    var interval = "1s"

    @Option(help: ArgumentHelp("Directory with netobs and netobs-agent (default: this binary's).", valueName: "dir"))
    var binDir: String?

    @Option(help: ArgumentHelp("The demo application's directory (default: scripts/demo-app of the repository).", valueName: "dir"))
    var appDir: String?

    @Flag(help: "Check the scenario, print its timeline and exit.")
    var checkOnly = false

    func validate() throws {
        if let duration, DurationText.parse(duration) == nil {
            throw ValidationError("--duration '\(duration)' is not a duration (examples: 90s, 3m, 1m30s)")
        }
        guard (1...256).contains(loadConnections) else { throw ValidationError("--load-connections must be 1...256") }
        guard let ns = DurationText.parse(interval), ns >= 100_000_000 else {
            throw ValidationError("--interval must be a duration of at least 100ms")
        }
    }

    func run() throws {
        let scenarioPath = try scenario ?? RepositoryFiles.find("scenarios/default.yaml", what: "the default scenario (give --scenario)")
        var parsed: Scenario
        let text: String
        do {
            text = try String(contentsOfFile: scenarioPath, encoding: .utf8)
            parsed = try ScenarioParser.parse(yaml: text, source: scenarioPath)
            if let duration { parsed.durationNs = DurationText.parse(duration)! }
            try ScenarioValidator.validate(parsed, source: scenarioPath + (duration.map { " with --duration \($0)" } ?? ""))
        } catch let error as ScenarioError {
            throw CommandFailure(error.description)
        } catch {
            throw CommandFailure("cannot read \(scenarioPath): \(error.localizedDescription)")
        }
        print("scenario \(scenarioPath): \(DurationText.format(parsed.durationNs)), \(parsed.faults.count) faults")
        for fault in parsed.faults.sorted(by: { $0.atNs < $1.atNs }) { print("  \(fault)") }
        fflush(nil)   // stdout, before the run's progress on stderr
        if checkOnly { return }

        let app = try appDir ?? RepositoryFiles.find("scripts/demo-app", what: "the demo application (give --app-dir)")
        let bin = binDir ?? URL(fileURLWithPath: CommandLine.executablePath).deletingLastPathComponent().path
        let outDir = out ?? "demo-out/run-" + Self.timestamp()
        var options = DemoRun.Options(scenario: parsed, scenarioText: text, layout: DemoLayout(out: outDir),
                                      tools: NetobsTools(directory: bin), appDirectory: app)
        options.loadConnections = loadConnections
        options.agentInterval = interval
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
