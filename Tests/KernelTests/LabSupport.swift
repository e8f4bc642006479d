import Foundation
import NodeLab
import Testing

/// Kernel tests need root (eBPF, namespaces); elsewhere they say so and skip.
let isRoot = geteuid() == 0
let rootOnly = Testing.ConditionTrait.enabled(if: isRoot, "needs root: loads eBPF programs and builds network namespaces")

/// A lab with `count` pods named a, b, c... torn down when `body` ends, even if it throws.
func withLab<T>(pods count: Int, _ body: (NodeLab, [Pod]) throws -> T) throws -> T {
    let lab = try NodeLab()
    defer { lab.teardown() }
    let pods = try (0..<count).map { i in
        try lab.addPod(name: String(UnicodeScalar(UInt8(97 + i))), namespace: "test")
    }
    return try body(lab, pods)
}

/// A port no other test uses at the same time.
func freshPort() -> Int { Int.random(in: 20000...29999) }

extension Pod {
    func address(ipv6: Bool) -> String { ipv6 ? self.ipv6 : ipv4 }
}
