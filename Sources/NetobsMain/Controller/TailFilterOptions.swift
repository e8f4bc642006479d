import ArgumentParser

/// `netobs tail`'s filter flags, for parsing and --help. What `--not` negates is read from the
/// arguments' order (`TailFilterArguments`).
struct TailFilterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Records whose source or destination is in this namespace.", valueName: "ns"))
    var namespace: [String] = []

    @Option(help: ArgumentHelp("Records whose source or destination is this pod (NAME or NS/NAME).", valueName: "pod"))
    var pod: [String] = []

    @Option(help: ArgumentHelp("Records to this service (NAME or NS/NAME).", valueName: "service"))
    var service: [String] = []

    @Option(help: "Records of this kind (tcp, udp, http, dns, loss, anomaly, ...).")
    var kind: [String] = []

    @Option(name: .customLong("protocol"), help: "Records of this protocol: tcp (http included), udp (dns included), http, dns.")
    var proto: [String] = []

    @Option(help: "HTTP status (503) or class (5xx), or DNS response code (NXDOMAIN).")
    var status: [String] = []

    @Flag(help: "Anomaly records only.")
    var anomalies = false

    @Option(help: ArgumentHelp("Records whose source is in this namespace.", valueName: "ns"))
    var fromNamespace: [String] = []

    @Option(help: ArgumentHelp("Records whose destination is in this namespace.", valueName: "ns"))
    var toNamespace: [String] = []

    @Option(help: ArgumentHelp("Records from a pod whose name starts with this ([NS/]PREFIX).", valueName: "pod"))
    var fromPod: [String] = []

    @Option(help: ArgumentHelp("Records to a pod whose name starts with this ([NS/]PREFIX).", valueName: "pod"))
    var toPod: [String] = []

    @Option(name: .customLong("from-ip"), help: ArgumentHelp("Records from this address or CIDR.", valueName: "ip[/bits]"))
    var fromIP: [String] = []

    @Option(name: .customLong("to-ip"), help: ArgumentHelp("Records to this address or CIDR.", valueName: "ip[/bits]"))
    var toIP: [String] = []

    @Option(help: ArgumentHelp("Records with this source or destination port.", valueName: "port"))
    var port: [UInt16] = []

    @Option(help: ArgumentHelp("Records with this source port.", valueName: "port"))
    var fromPort: [UInt16] = []

    @Option(help: ArgumentHelp("Records with this destination port.", valueName: "port"))
    var toPort: [UInt16] = []

    @Option(help: ArgumentHelp("Records reported by the agent of this node.", valueName: "node"))
    var node: [String] = []

    @Option(help: ArgumentHelp("Records from pods of this workload (NAME, KIND/NAME, NS/NAME or NS/KIND/NAME).", valueName: "workload"))
    var fromWorkload: [String] = []

    @Option(help: ArgumentHelp("Records to pods of this workload (as --from-workload).", valueName: "workload"))
    var toWorkload: [String] = []

    @Option(help: ArgumentHelp("HTTP exchanges with this method (any case).", valueName: "method"))
    var httpMethod: [String] = []

    @Option(help: ArgumentHelp("HTTP exchanges whose path starts with this, or matches it as a glob (/api/*/items, /static/**).",
                               valueName: "path"))
    var httpPath: [String] = []

    @Flag(name: .customLong("not"), help: "Negate the filter flag that follows (repeat before each one to negate).")
    var negations: Int
}
