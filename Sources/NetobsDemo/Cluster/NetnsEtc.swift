import Foundation
import NodeLab

/// Per-pod /etc files: `ip netns exec` bind-mounts /etc/netns/<netns>/<file> over /etc/<file>
/// for the program it starts, so a pod's processes read their own resolv.conf.
enum NetnsEtc {
    static let directory = "/etc/netns"

    static func write(_ file: String, contents: String, for pod: Pod) throws {
        let dir = directory + "/" + pod.netnsName
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try contents.write(toFile: dir + "/" + file, atomically: true, encoding: .utf8)
    }

    static func remove(for pod: Pod) {
        try? FileManager.default.removeItem(atPath: directory + "/" + pod.netnsName)
    }

    /// Directories of lab pods whose creating process is gone (a run killed with SIGKILL).
    static func removeStale() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            if let owner = LabNaming.ownerPID(of: name), !LabJanitor.isAlive(owner) {
                try? FileManager.default.removeItem(atPath: directory + "/" + name)
            }
        }
    }
}
