import ArgumentParser
import NIOPosix
import NetobsController
import NetobsTopology

/// `netobs controller`'s topology source: the records' join with pods, services and nodes.
struct TopologyOptions: ParsableArguments {
    @Option(help: ArgumentHelp(TopologySourceOptions.help.topologyFile, valueName: "file"))
    var topologyFile: String?

    @Option(help: ArgumentHelp(TopologySourceOptions.help.kubeconfig, valueName: "file"))
    var kubeconfig: String?

    @Flag(name: .customLong("kubeconfig-from-env"), help: ArgumentHelp(TopologySourceOptions.help.kubeconfigFromEnvironment))
    var kubeconfigFromEnvironment = false

    @Option(help: ArgumentHelp(TopologySourceOptions.help.kubeContext, valueName: "name"))
    var kubeContext: String?

    @Flag(help: ArgumentHelp(TopologySourceOptions.help.inCluster))
    var inCluster = false

    @Option(help: ArgumentHelp(TopologySourceOptions.help.grace, valueName: "seconds"))
    var deletedPodGrace = 60

    var source: TopologySourceOptions {
        var o = TopologySourceOptions(topologyFile: topologyFile, kubeconfig: kubeconfig,
                                      kubeconfigFromEnvironment: kubeconfigFromEnvironment, kubeContext: kubeContext,
                                      inCluster: inCluster)
        o.deletedPodGraceSeconds = deletedPodGrace
        return o
    }

    func validate() throws {
        do {
            try source.validate()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The joiner for the controller and the running source (keep it; stop it at shutdown), or
    /// (nil, nil) when no source is named: records then reach consumers as the agents sent them.
    func start(log: @escaping @Sendable (String) -> Void) throws -> (TopologyJoiner?, (any TopologySource)?) {
        guard source.isEnabled else { return (nil, nil) }
        do {
            let (store, running) = try source.start(group: MultiThreadedEventLoopGroup.singleton, log: log)
            return (TopologyJoiner(store: store), running)
        } catch {
            throw CommandFailure("cannot start the topology source: \(error)")
        }
    }
}
