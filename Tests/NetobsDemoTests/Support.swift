#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import NodeLab
@testable import NetobsDemo

let isRoot = geteuid() == 0
let rootOnly = Testing.ConditionTrait.enabled(if: isRoot, "needs root: builds network namespaces, loads eBPF programs")

/// The repository (this file is Tests/NetobsDemoTests/Support.swift).
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// netobs and netobs-agent as `swift build` left them beside the test bundle.
var toolsDirectory: String {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    while dir.path != "/" {
        if FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("netobs-agent").path) { return dir.path }
        dir = dir.deletingLastPathComponent()
    }
    return repository + "/.build/debug"
}

func temporaryDirectory(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("netobs-\(name)-\(UUID().uuidString.prefix(8))").path
}

/// What a lab leaves on the machine, found by its id: namespaces, links, cgroups, per-pod
/// /etc/netns files, processes, iptables rules of the root namespace.
struct MachineState: Equatable, CustomStringConvertible {
    var netns: [String]
    var links: [String]
    var cgroup: Bool
    var etcNetns: [String]
    var livePids: [Int32]
    var rootIptables: String

    /// `pids`: the lab's processes seen while it ran; still alive is a leak.
    static func of(labID: String, pids: [Int32]) throws -> MachineState {
        let netns = try Shell.check(["ip", "netns", "list"]).stdout.split(separator: "\n")
            .compactMap { $0.split(separator: " ").first.map(String.init) }.filter { $0.hasPrefix(labID) }
        let links = ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? []).filter { $0.hasPrefix(labID) }
        let cgroup = FileManager.default.fileExists(atPath: try CgroupV2.mountPoint() + "/netobs-nodelab/" + labID)
        let etc = ((try? FileManager.default.contentsOfDirectory(atPath: "/etc/netns")) ?? []).filter { $0.hasPrefix(labID) }
        return MachineState(netns: netns, links: links, cgroup: cgroup, etcNetns: etc, livePids: pids.filter(processExists),
                            rootIptables: try rootIptables())
    }

    /// Rules of the root namespace (iptables-save without its comment and counter lines).
    static func rootIptables() throws -> String {
        try Shell.check(["iptables-save"]).stdout.split(separator: "\n")
            .filter { !$0.hasPrefix("#") && !$0.hasPrefix(":") }.joined(separator: "\n")
    }

    var isClean: Bool { netns.isEmpty && links.isEmpty && !cgroup && etcNetns.isEmpty && livePids.isEmpty }

    var description: String {
        "netns \(netns), links \(links), cgroup \(cgroup), /etc/netns \(etcNetns), live pids \(livePids)"
    }
}

/// Every pid in the lab's cgroup tree (pods and the netobs processes below it).
func labPids(_ lab: NodeLab) -> [Int32] {
    var pids: [Int32] = []
    let enumerator = FileManager.default.enumerator(atPath: lab.cgroupRoot)
    while let path = enumerator?.nextObject() as? String {
        guard path.hasSuffix("cgroup.procs") else { continue }
        let text = (try? String(contentsOfFile: lab.cgroupRoot + "/" + path, encoding: .utf8)) ?? ""
        pids += text.split(separator: "\n").compactMap { Int32($0) }
    }
    return pids
}

/// Running and not a zombie.
func processExists(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[close...].dropFirst(2).first
    return state != "Z" && state != "X"
}

/// records.jsonl as dictionaries.
func readRecords(_ path: String) throws -> [[String: Any]] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
        try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
}

extension Dictionary where Key == String, Value == Any {
    func string(_ key: String) -> String { self[key] as? String ?? "" }
    func int(_ key: String) -> Int64 { (self[key] as? NSNumber)?.int64Value ?? 0 }
    func involves(_ ip: String) -> Bool { string("src_ip") == ip || string("dst_ip") == ip }
}

func median(_ values: [Int64]) -> Int64 {
    values.isEmpty ? 0 : values.sorted()[values.count / 2]
}

/// Runs async work from the demo's synchronous hooks (they run on the test's own thread, which
/// waits here while the work runs on another).
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = BlockingOutcome<T>()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        do { outcome.value = .success(try await body()) } catch { outcome.value = .failure(error) }
        done.signal()
    }
    done.wait()
    return try outcome.value!.get()
}

private final class BlockingOutcome<T>: @unchecked Sendable {
    var value: Result<T, any Error>?   // written before the semaphore is signalled, read after
}
