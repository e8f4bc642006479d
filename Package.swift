// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "netobs",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "netobs-agent", targets: ["NetobsAgentMain"]),
        .executable(name: "netobs", targets: ["NetobsMain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
    ],
    targets: [
        // System libraries and the record layout shared with the kernel programs.
        .systemLibrary(name: "CLibbpf", pkgConfig: "libbpf",
                       providers: [.apt(["libbpf-dev", "libelf-dev"])]),
        // A C target (not a bare module map) so that edits of the header rebuild its users.
        .target(name: "CNetobsLayout", path: "bpf", sources: ["netobs_layout.c"], publicHeadersPath: "."),

        // BPF objects compiled from bpf/*.bpf.c at build time and embedded in the binary.
        .plugin(name: "BPFObjectsPlugin", capability: .buildTool()),
        .target(name: "NetobsPrograms", plugins: ["BPFObjectsPlugin"]),
        // The build's version (git describe) for --version.
        .plugin(name: "BuildInfoPlugin", capability: .buildTool()),
        .target(name: "NetobsBuildInfo", plugins: ["BuildInfoPlugin"]),

        // libbpf wrapper: objects, programs, maps, ring buffers, BTF.
        .target(name: "NetobsKernel", dependencies: ["CLibbpf"]),
        // What every consumer of records agrees on (what a failure is), with no dependency.
        .target(name: "NetobsSchema"),
        .testTarget(name: "NetobsSchemaTests", dependencies: ["NetobsSchema"]),
        // Pure logic: decoding kernel records, interval deltas, JSON lines.
        .target(name: "NetobsRecords", dependencies: ["CNetobsLayout", "NetobsWire"]),
        // The agent: loads the programs, polls maps and ring buffers, emits records.
        .target(name: "NetobsAgent",
                dependencies: ["NetobsKernel", "NetobsRecords", "NetobsWire", "NetobsPrograms", "CNetobsLayout", "NetobsProbes",
                               .product(name: "Logging", package: "swift-log")]),
        .executableTarget(name: "NetobsAgentMain",
                          dependencies: ["NetobsAgent", "NetobsAgentLink", "NetobsTLS", "NetobsWire", "NetobsBuildInfo", "NetobsLogging", "NetobsProbes",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // One log format for both binaries (swift-log; --log-level, --log-format).
        .target(name: "NetobsLogging",
                dependencies: [.product(name: "Logging", package: "swift-log"),
                               .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "NetobsLoggingTests", dependencies: ["NetobsLogging"]),

        // Probe endpoints (/healthz, /readyz, /metrics) and the Prometheus text format, for both binaries.
        .target(name: "NetobsProbes",
                dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "NIOHTTP1", package: "swift-nio")]),
        .testTarget(name: "NetobsProbesTests", dependencies: ["NetobsProbes"]),

        // NATS client (JetStream publish/ack, subscriptions) on SwiftNIO over the project's TLS engine.
        .target(name: "NetobsNATS",
                dependencies: ["NetobsTLS", .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "NetobsNATSTests", dependencies: ["NetobsNATS", "NetobsTLS"]),

        // Lab of "pods" (netns + veth + bridge + cgroup v2) for tests, benchmarks and the demo.
        .target(name: "NodeLab"),

        // The controller/agent wire protocol: frames and messages, pure encode/decode (no I/O).
        .target(name: "NetobsWire"),

        // TLS on OpenSSL's libssl: an engine over memory BIOs and a SwiftNIO handler driving it.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(name: "NetobsTLS", dependencies: ["COpenSSL", "NetobsWire", .product(name: "NIOCore", package: "swift-nio")]),

        // `netobs`: the controller and the operator CLI.
        .executableTarget(name: "NetobsMain",
                          dependencies: ["NetobsTLS", "NetobsWire", "NetobsController", "NetobsAgentLink", "NetobsBuildInfo", "NetobsLogging", "NetobsProbes",
                                         "NetobsTopology", "NetobsHTTP", "NetobsAnalysis", "NetobsDemo", "NetobsRecords", "NetobsDashboard", "Yams",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                         .product(name: "Logging", package: "swift-log"),
                                         .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),

        .testTarget(name: "NetobsRecordsTests", dependencies: ["NetobsRecords", "NetobsWire"]),
        .testTarget(name: "NodeLabTests", dependencies: ["NodeLab"]),
        .testTarget(name: "NetobsTLSTests",
                    dependencies: ["NetobsTLS", "NetobsMain", "NetobsWire",
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOPosix", package: "swift-nio"),
                                   .product(name: "NIOEmbedded", package: "swift-nio")]),
        .testTarget(name: "NetobsWireTests", dependencies: ["NetobsWire"],
                    resources: [.copy("Vectors")]),
        .testTarget(name: "KernelTests",
                    dependencies: ["NetobsKernel", "NetobsAgent", "NetobsRecords", "NodeLab", "NetobsAgentMain",
                                   "NetobsPrograms", "NetobsTLS", "NetobsWire", "NetobsTestSupport"],
                    exclude: ["Fixtures"]),

        // Frames over NIO (after TLSHandler), shared by the controller and its clients.
        .target(name: "NetobsWireNIO", dependencies: ["NetobsWire", .product(name: "NIOCore", package: "swift-nio")]),
        // The controller: sessions, durable per-agent logs, stream fan-out.
        .target(name: "NetobsController",
                dependencies: ["NetobsWire", "NetobsWireNIO", "NetobsTLS", "NetobsTopology", "NetobsRecords",
                               .product(name: "Logging", package: "swift-log"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio")]),
        // Clients of the controller: the agent's uplink with its spool, and the consumer stream.
        .target(name: "NetobsAgentLink",
                dependencies: ["NetobsWire", "NetobsWireNIO", "NetobsTLS",
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "NetobsControllerTests",
                    dependencies: ["NetobsController", "NetobsAgentLink", "NetobsWireNIO", "NetobsWire", "NetobsTLS", "NetobsMain",
                                   "NetobsTestSupport",
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOPosix", package: "swift-nio"),
                                   .product(name: "NIOEmbedded", package: "swift-nio")]),

        // Benchmark: controller ingest with 0 vs 100 consumers (scripts/bench-consumers.sh, release build).
        .executableTarget(name: "NetobsConsumerBench",
                          dependencies: ["NetobsController", "NetobsAgentLink", "NetobsTLS", "NetobsWire"]),

        // Benchmark: the controller process with a consumer and with 1,000 simulated agents (scripts/bench-fleet.sh).
        .executableTarget(name: "NetobsFleetBench",
                          dependencies: ["NetobsAgentLink", "NetobsTLS", "NetobsWire", "NetobsController"]),

        // Topology: the Kubernetes API client (list/watch over NIO + our TLS) and the file source.
        .target(name: "NetobsTopology",
                dependencies: ["NetobsTLS", "Yams",
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "NIOHTTP1", package: "swift-nio")]),
        .testTarget(name: "NetobsTopologyTests",
                    dependencies: ["NetobsTopology", "NetobsController", "NetobsTLS",
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOPosix", package: "swift-nio"),
                                   .product(name: "NIOHTTP1", package: "swift-nio")]),
        // Join throughput and topology memory (bench/join.sh).
        .executableTarget(name: "JoinBench", dependencies: ["NetobsController", "NetobsTopology"], path: "bench/JoinBench"),
        // TLS bulk throughput (TLSEngine and TLSHandler) against `openssl speed` (bench/tls.sh).
        .executableTarget(name: "TLSBench",
                          dependencies: ["NetobsTLS", .product(name: "NIOCore", package: "swift-nio"),
                                         .product(name: "NIOEmbedded", package: "swift-nio")],
                          path: "bench/TLSBench"),

        // HTTP side of the controller: /metrics, NDJSON/SSE record streams, the dashboard.
        .target(name: "NetobsHTTP",
                dependencies: ["NetobsProbes", "NetobsController", "NetobsTLS", "NetobsRecords", "NetobsDashboard", "NetobsWire",
                               "NetobsTopology", "NetobsBuildInfo",
                               .product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(name: "NetobsHTTPTests",
                    dependencies: ["NetobsHTTP", "NetobsProbes", "NetobsController", "NetobsTLS", "NetobsRecords", "NetobsWire",
                                   "NetobsAgentLink", "NetobsTopology", "NetobsBuildInfo",
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "Hummingbird", package: "hummingbird")]),

        // The web dashboard: service map, per-pod charts, anomalies, rendered as HTML + SVG.
        .target(name: "NetobsDashboard",
                dependencies: ["NetobsTopology", "NetobsSchema", .product(name: "Hummingbird", package: "hummingbird")]),
        .testTarget(name: "NetobsDashboardTests",
                    dependencies: ["NetobsDashboard", "NetobsTestSupport", .product(name: "Hummingbird", package: "hummingbird")]),
        // Helpers shared by test targets (headless Chromium).
        .target(name: "NetobsTestSupport"),

        // Analysis: time series, detectors, localization, classifier, evaluation (pure).
        .target(name: "NetobsAnalysis", dependencies: ["NetobsRecords", "NetobsSchema"]),
        .testTarget(name: "NetobsAnalysisTests", dependencies: ["NetobsAnalysis"]),

        // The demo: scenario files, the microservice cluster on lab pods, fault injection, labels.
        .target(name: "NetobsDemo", dependencies: ["NodeLab", "NetobsTopology", "Yams"]),
        .testTarget(name: "NetobsDemoTests", dependencies: ["NetobsDemo", "NodeLab", "NetobsTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
