// Join throughput and topology memory: `swift run -c release JoinBench [--pods N] [--services N]
// [--rounds N] [--records N]`. Prints one JSON object (bench/join.sh writes it to
// bench/results-join.json). Single thread; records shaped like the agent's.
import Foundation
import NetobsController
import NetobsTopology

struct Options {
    var pods = 10_000
    var services = 5_000
    var rounds = 7
    var records = 1_000_000
    var batch = 1_000

    init(_ arguments: [String]) {
        var it = arguments.makeIterator()
        while let flag = it.next() {
            guard let value = it.next().flatMap(Int.init), value > 0 else {
                FileHandle.standardError.write(Data("usage: JoinBench [--pods N] [--services N] [--rounds N] [--records N] [--batch N]\n".utf8))
                exit(2)
            }
            switch flag {
            case "--pods": pods = value
            case "--services": services = value
            case "--rounds": rounds = value
            case "--records": records = value
            case "--batch": batch = value
            default:
                FileHandle.standardError.write(Data("unknown option \(flag)\n".utf8))
                exit(2)
            }
        }
    }
}

func ipv4(_ base: UInt32, _ i: Int) -> String {
    let v = base + UInt32(i)
    return "\(v >> 24).\((v >> 16) & 255).\((v >> 8) & 255).\(v & 255)"
}

/// A cluster of `pods` pods on 100 nodes, `services` services of two backends each.
func topology(pods: Int, services: Int) -> TopologyState {
    let nodes = (0..<100).map { TopologyNode(name: "node-\($0)", ips: [ipv4(0xC0A8_0000, $0 + 1)]) }
    var podList: [TopologyPod] = []
    podList.reserveCapacity(pods)
    for i in 0..<pods {
        let app = "app-\(i / 2 % max(services, 1))"
        podList.append(TopologyPod(name: "\(app)-\(i)", namespace: "ns-\(i % 50)", uid: UUID().uuidString.lowercased(),
                                   ips: [ipv4(0x0A01_0000, i + 1)], node: "node-\(i % 100)",
                                   labels: ["app": app, "pod-template-hash": "5d9f8c7b6"], workload: "deployment/\(app)"))
    }
    var serviceList: [TopologyService] = []
    var slices: [TopologyEndpointSlice] = []
    for s in 0..<services {
        let backends = [2 * s, 2 * s + 1].filter { $0 < pods }.map { podList[$0] }
        let namespace = backends.first?.namespace ?? "ns-0"
        serviceList.append(TopologyService(name: "svc-\(s)", namespace: namespace, clusterIPs: [ipv4(0x0A60_0000, s + 1)],
                                           ports: [.init(port: 80, targetPort: 8080)], selector: ["app": "app-\(s)"]))
        slices.append(TopologyEndpointSlice(name: "svc-\(s)-x", namespace: namespace, service: "svc-\(s)", ports: [8080],
                                            endpoints: backends.map { .init(ips: $0.ips, pod: $0.name) }))
    }
    return TopologyState(pods: podList, services: serviceList, endpointSlices: slices, nodes: nodes)
}

/// 60% pod → service cluster IP, 30% pod → pod (server side: an endpoint), 10% pod → external.
func records(count: Int, pods: Int, services: Int) -> [[UInt8]] {
    var rng = SystemRandomNumberGenerator()
    return (0..<min(count, 100_000)).map { i in
        let src = ipv4(0x0A01_0000, Int.random(in: 0..<pods, using: &rng) + 1)
        let roll = i % 10
        let dst = roll < 6 ? ipv4(0x0A60_0000, Int.random(in: 0..<services, using: &rng) + 1)
            : roll < 9 ? ipv4(0x0A01_0000, Int.random(in: 0..<pods, using: &rng) + 1) : "203.0.113.\(i % 250)"
        let dport = roll < 6 ? 80 : roll < 9 ? 8080 : 443
        return Array(#"{"kind":"tcp","ts_ns":1764370000123456789,"node":"node-3","pid":4242,"comm":"front-end","cgroup_id":12345,"netns":4026532000,"ip_version":4,"src_ip":"\#(src)","src_port":\#(30000 + i % 30000),"dst_ip":"\#(dst)","dst_port":\#(dport),"role":"client","tcp_tx_bytes":1234,"tcp_rx_bytes":5678,"tcp_retransmit":0,"tcp_rtt":153000}"#.utf8)
    }
}

func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
          let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// CPU time of this thread: the rate per CPU-second is the single-core figure even when the
/// machine is shared.
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

let options = Options(Array(CommandLine.arguments.dropFirst()))

// Memory: the controller's cost of a topology is the store plus the join index built from
// it. Measured as the RSS growth when both are made, per 1k pods.
let state = topology(pods: options.pods, services: options.services)
let sample = records(count: options.records, pods: options.pods, services: options.services)
let rssBefore = residentBytes()
let store = TopologyStore()
store.replace(with: state)
let joiner = TopologyJoiner(store: store, minRebuildInterval: .zero)
let warm = joiner.join(Array(sample.prefix(options.batch)))  // builds the index
let rssAfter = residentBytes()
let bytesPerThousandPods = Double(rssAfter - rssBefore) / Double(options.pods) * 1000

let indexStart = ContinuousClock.now
store.upsert(TopologyPod(name: "bump", namespace: "x", ips: ["10.250.0.1"]))
_ = joiner.join(Array(sample.prefix(1)))
let indexBuild = ContinuousClock.now - indexStart

var rates: [Double] = []
var cpuRates: [Double] = []
var bytesOut = 0
for _ in 0..<options.rounds {
    var done = 0
    let start = ContinuousClock.now
    let cpuStart = threadCPUSeconds()
    while done < options.records {
        var offset = 0
        while offset < sample.count && done < options.records {
            let end = min(offset + options.batch, sample.count)
            let out = joiner.join(Array(sample[offset..<end]))
            bytesOut &+= out.count
            done += end - offset
            offset = end
        }
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    rates.append(Double(done) / seconds)
    cpuRates.append(Double(done) / (threadCPUSeconds() - cpuStart))
}

let result: [String: Any] = [
    "pods": options.pods, "services": options.services, "nodes": 100,
    "records_per_round": options.records, "batch": options.batch, "rounds": options.rounds,
    "join_records_per_s_median": Int(median(rates)),
    "join_records_per_s_rounds": rates.map { Int($0) },
    "join_records_per_cpu_s_median": Int(median(cpuRates)),
    "join_index_rebuild_ms": Double(indexBuild.components.attoseconds / 1_000_000_000_000 + indexBuild.components.seconds * 1_000_000) / 1000,
    "topology_rss_bytes_per_1k_pods": Int(bytesPerThousandPods),
    "sample_joined_record": String(decoding: warm[0], as: UTF8.self),
    "counters": ["joined": joiner.counts.joined, "malformed": joiner.counts.malformed],
]
print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
