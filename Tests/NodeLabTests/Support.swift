#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import NodeLab

/// Kernel tests need root; everything else about them is real (no mocks).
let isRoot = geteuid() == 0
let rootOnly = Testing.ConditionTrait.enabled(
    if: isRoot, "needs root: NodeLab creates network namespaces, veths, a bridge and cgroups")

/// All NodeLab suites run one at a time: they share the machine's bridge/netns namespace.
@Suite(.serialized) struct NodeLabTests {}

/// Names of network namespaces (`ip netns list`).
func netnsList() throws -> [String] {
    try Shell.check(["ip", "netns", "list"]).stdout.split(separator: "\n")
        .compactMap { $0.split(separator: " ").first.map(String.init) }
}

/// Interface names in the root namespace (`ip -o link`), without the "@peer" suffix.
func linkNames() throws -> [String] {
    try Shell.check(["ip", "-o", "link"]).stdout.split(separator: "\n").compactMap { line in
        let fields = line.split(separator: ":", maxSplits: 2)
        guard fields.count >= 2 else { return nil }
        return String(fields[1].trimmingCharacters(in: .whitespaces).split(separator: "@").first ?? "")
    }
}

/// True while `pid` runs; a zombie (dead, waiting for its new parent to reap it, as happens
/// to a killed workload's orphaned children) does not count.
func processExists(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[close...].dropFirst(2).first
    return state != "Z" && state != "X"
}

/// A pid that certainly belonged to a process that has exited.
func deadPID() throws -> Int32 {
    let process = try Shell.spawn(["true"])
    try process.waitUntilExit(timeout: .seconds(10))
    #expect(!processExists(process.pid))
    return process.pid
}
