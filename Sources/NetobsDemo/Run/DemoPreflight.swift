import Foundation
import NodeLab

/// What the demo needs on the machine, checked before anything is built.
public enum DemoPreflight {
    static let tools = ["ip", "iptables", "wrk", "redis-server", "dnsmasq", "curl"]

    public static func check(appDirectory: String) throws {
        try NodeLab.preflight()
        var missing = tools.filter { Shell.which($0) == nil }
        if !FileManager.default.isExecutableFile(atPath: DemoCluster.python) { missing.append(DemoCluster.python) }
        if !missing.isEmpty {
            throw DemoError("missing on this machine: \(missing.joined(separator: ", ")); run scripts/setup.sh (as root)")
        }
        for file in ["service.py", "probe.py", "load.lua"] where !FileManager.default.fileExists(atPath: appDirectory + "/" + file) {
            throw DemoError("\(appDirectory)/\(file) is missing: point --app-dir at the repository's scripts/demo-app")
        }
    }
}
