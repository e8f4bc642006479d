import NIOCore

/// The controller's choice of topology source, as given on its command line:
/// `--topology-file PATH` | `--kubeconfig PATH[:PATH...] [--kube-context NAME]` |
/// `--kubeconfig-from-env [--kube-context NAME]` | `--in-cluster`, or none.
public struct TopologySourceOptions: Sendable, Equatable {
    public var topologyFile: String?
    public var kubeconfig: String?
    /// The kubeconfig kubectl would use: `$KUBECONFIG` merged, else ~/.kube/config.
    public var kubeconfigFromEnvironment = false
    public var kubeContext: String?
    public var inCluster = false
    /// How long records of a deleted pod still join to it.
    public var deletedPodGraceSeconds = 60

    public init(topologyFile: String? = nil, kubeconfig: String? = nil, kubeconfigFromEnvironment: Bool = false,
                kubeContext: String? = nil, inCluster: Bool = false, deletedPodGraceSeconds: Int = 60) {
        self.topologyFile = topologyFile
        self.kubeconfig = kubeconfig
        self.kubeconfigFromEnvironment = kubeconfigFromEnvironment
        self.kubeContext = kubeContext
        self.inCluster = inCluster
        self.deletedPodGraceSeconds = deletedPodGraceSeconds
    }

    /// Help text for the options, for the command's --help.
    public static let help = (
        topologyFile: "Topology from a JSON or YAML file, reloaded when it changes (docs/topology-file.md).",
        kubeconfig: "Topology from the Kubernetes API server of this kubeconfig (its current context unless --kube-context); several files separated by ':' are merged as kubectl merges $KUBECONFIG.",
        kubeconfigFromEnvironment: "Topology from the Kubernetes API server of the kubeconfig kubectl would use: the files of $KUBECONFIG merged (the first to name a cluster, user or context wins), else ~/.kube/config.",
        kubeContext: "The kubeconfig context to use.",
        inCluster: "Topology from the Kubernetes API server of the cluster this runs in (service-account token).",
        grace: "Seconds a deleted pod's records still join to it."
    )

    /// Checks that at most one source is named; a clear message otherwise.
    public func validate() throws {
        let chosen = [topologyFile != nil, kubeconfig != nil, kubeconfigFromEnvironment, inCluster].filter { $0 }.count
        if chosen > 1 {
            throw TopologyError("choose one topology source: --topology-file, --kubeconfig, --kubeconfig-from-env or --in-cluster")
        }
        if kubeContext != nil && kubeconfig == nil && !kubeconfigFromEnvironment {
            throw TopologyError("--kube-context needs --kubeconfig or --kubeconfig-from-env")
        }
        if deletedPodGraceSeconds < 0 { throw TopologyError("the deleted pod grace period cannot be negative") }
    }

    public var isEnabled: Bool { topologyFile != nil || kubeconfig != nil || kubeconfigFromEnvironment || inCluster }

    /// A store for the records' join and the started source that fills it; nil source when
    /// none is configured (every address then joins as "external"). Throws when the source
    /// cannot start (a bad file, an unreadable kubeconfig or service account).
    public func start(group: any EventLoopGroup, log: @escaping @Sendable (String) -> Void) throws
        -> (store: TopologyStore, source: (any TopologySource)?) {
        try validate()
        let store = TopologyStore(gracePeriodNs: UInt64(deletedPodGraceSeconds) * 1_000_000_000)
        let source: (any TopologySource)?
        if let topologyFile {
            source = FileTopologySource(path: topologyFile, store: store, log: log)
        } else if let kubeconfig {
            source = try KubernetesTopologySource(endpoint: .kubeconfig(path: kubeconfig, context: kubeContext),
                                                  store: store, group: group, log: log)
        } else if kubeconfigFromEnvironment {
            source = try KubernetesTopologySource(endpoint: .kubeconfigFromEnvironment(context: kubeContext),
                                                  store: store, group: group, log: log)
        } else if inCluster {
            source = try KubernetesTopologySource(endpoint: .inCluster(), store: store, group: group, log: log)
        } else {
            source = nil
        }
        try source?.start()
        return (store, source)
    }
}
