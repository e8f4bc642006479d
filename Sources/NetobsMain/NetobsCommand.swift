import NetobsBuildInfo
import ArgumentParser

/// `netobs`: the controller and the operator's CLI. Each area is a subcommand in its own
/// folder (certs now; controller, rules, programs, agents to come).
@main
struct NetobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netobs",
        abstract: "netobs controller and operator CLI.",
        discussion: """
            netobs watches every TCP and UDP flow of a Kubernetes cluster from eBPF programs run \
            by node agents (netobs-agent). This command runs the controller the agents report to \
            and is the operator's tool to manage it. Controller, agents and clients talk over \
            mutual TLS 1.3 only; start with `netobs certs init` to make certificates for a local setup.
            """,
        version: BuildInfo.describe,
        subcommands: [CertsCommand.self, ControllerCommand.self, TailCommand.self, AgentsCommand.self,
                      RulesCommand.self, ProgramsCommand.self, DemoCommand.self, DetectCommand.self,
                      AnomaliesCommand.self, TrainCommand.self, EvalCommand.self, BenchAnalysisCommand.self])
}
