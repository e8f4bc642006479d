import Foundation
import NodeLab

/// Cgroups laid out the way a kubelet makes them, for processes of a test to run in; `remove()`
/// kills what runs inside and removes what this fixture created (parents only when empty).
final class KubeletCgroupFixture {
    struct Cgroup {
        let path: String
        /// What the kernel programs report as `cgroup_id`.
        let id: UInt64
        /// The pod UID the path carries (nil: not a pod's cgroup).
        let podUID: String?
    }

    private var leaves: [String] = []
    private var parents: [String] = []

    /// systemd driver: `<root>/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid with _>.slice/cri-containerd-<id>.scope`.
    func systemdPod(under root: String) throws -> Cgroup {
        let uid = UUID().uuidString.lowercased()
        let pod = "kubepods-besteffort-pod" + uid.replacingOccurrences(of: "-", with: "_") + ".slice"
        return try make(root, ["kubepods.slice", "kubepods-besteffort.slice", pod, "cri-containerd-\(Self.containerID()).scope"], uid)
    }

    /// cgroupfs driver: `<root>/kubepods/besteffort/pod<uid>/<container id>`.
    func cgroupfsPod(under root: String) throws -> Cgroup {
        let uid = UUID().uuidString.lowercased()
        return try make(root, ["kubepods", "besteffort", "pod" + uid, Self.containerID()], uid)
    }

    /// A cgroup outside any kubelet's tree, like a node's system service.
    func systemService(under root: String) throws -> Cgroup {
        try make(root, ["system.slice", "netobs-test-\(UUID().uuidString.prefix(8).lowercased()).service"], nil)
    }

    private func make(_ root: String, _ components: [String], _ uid: String?) throws -> Cgroup {
        var path = root
        for component in components {
            path += "/" + component
            guard !CgroupV2.exists(path) else { continue }
            try CgroupV2.create(path)
            if component != components.last { parents.append(path) }
        }
        leaves.append(path)
        return Cgroup(path: path, id: try CgroupV2.id(of: path), podUID: uid)
    }

    func remove() {
        for leaf in leaves.reversed() { CgroupV2.removeTree(leaf) }
        for parent in parents.reversed() { rmdir(parent) }
        leaves = []
        parents = []
    }

    deinit { remove() }

    private static func containerID() -> String {
        (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: .min ... .max)) }.joined()
    }
}
