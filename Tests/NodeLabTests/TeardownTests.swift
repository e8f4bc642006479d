#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import NodeLab

extension NodeLabTests {
    @Suite(rootOnly) struct Teardown {
        @Test func teardownLeavesNothingBehindAndIsIdempotent() throws {
            let lab = try NodeLab(name: "gone")
            let a = try lab.addPod(name: "a")
            let b = try lab.addPod(name: "b")
            let server = try a.spawn(["sleep", "300"])
            // A workload that forks: the grandchild is only reachable through the cgroup.
            let forker = try b.spawn(["sh", "-c", "sleep 300 & echo $!; wait"])
            try forker.waitForOutput("\n")
            let grandchild = try #require(Int32(forker.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(processExists(grandchild))
            #expect(try netnsList().contains(a.netnsName))
            #expect(try linkNames().contains(lab.bridgeName))

            lab.teardown()
            lab.teardown()

            #expect(try netnsList().filter { $0.hasPrefix(lab.id) }.isEmpty)
            #expect(try linkNames().filter { $0.hasPrefix(lab.id) }.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: lab.cgroupRoot))
            #expect(try server.waitUntilExit(timeout: .seconds(5)) == .signaled(SIGKILL))
            #expect(try forker.waitUntilExit(timeout: .seconds(5)) == .signaled(SIGKILL))
            #expect(!processExists(grandchild))
            #expect(leaseOwner(lab.subnetIndex) != lab.id)
            #expect(lab.isTornDown)
            #expect(throws: NodeLabError.self) { try lab.addPod(name: "late") }
            #expect(throws: NodeLabError.self) { try a.spawn(["true"]) }
        }

        @Test func removePodDeletesOnlyThatPod() throws {
            let lab = try NodeLab()
            defer { lab.teardown() }
            let a = try lab.addPod(name: "a")
            let b = try lab.addPod(name: "b")
            let sleeper = try a.spawn(["sleep", "300"])
            lab.removePod(a)
            #expect(try sleeper.waitUntilExit(timeout: .seconds(5)) == .signaled(SIGKILL))
            #expect(try !netnsList().contains(a.netnsName))
            #expect(try !linkNames().contains(a.hostVethName))
            #expect(!FileManager.default.fileExists(atPath: a.podCgroupPath))
            #expect(lab.pods == [b])
            try b.check(["ping", "-c", "1", "-W", "2", b.ipv4])
        }

        /// A run that was SIGKILLed leaves a bridge, netns + veth, cgroups with a live process
        /// and a subnet lease, all named after its (now dead) pid. The next lab removes them
        /// and leaves live labs alone.
        @Test func newLabRemovesLeftoversOfDeadProcesses() throws {
            let live = try NodeLab(name: "live")
            defer { live.teardown() }
            _ = try live.addPod(name: "keep")

            let dead = try deadPID()
            let ghost = LabNaming.labID(ownerPID: dead, index: 0)
            let netns = LabNaming.netnsName(labID: ghost, podIndex: 0, podName: "ghost")
            let bridge = LabNaming.bridgeName(labID: ghost)
            let veth = LabNaming.hostVethName(labID: ghost, podIndex: 0)
            let cgroup = try CgroupV2.mountPoint() + "/" + LabNaming.cgroupDirectory + "/" + ghost
            let leaseDirectory = LabNaming.runDirectory + "/subnets"
            try FileManager.default.createDirectory(atPath: leaseDirectory, withIntermediateDirectories: true)
            let container = cgroup + "/kubepods/pod0000/abcd"
            // Built by hand, as a killed run would have left them.
            try Shell.check(["ip", "link", "add", bridge, "type", "bridge"])
            try Shell.check(["ip", "netns", "add", netns])
            try Shell.check(["ip", "link", "add", veth, "master", bridge, "type", "veth", "peer", "name", "eth0", "netns", netns])
            try FileManager.default.createDirectory(atPath: container, withIntermediateDirectories: true)
            let orphan = try Shell.spawn(["sh", "-c", #"echo $$ > "$0" && exec ip netns exec "$1" sleep 300"#,
                                          container + "/cgroup.procs", netns])
            let lease = try #require((200...254).first { n in
                (try? FileManager.default.createSymbolicLink(atPath: "\(leaseDirectory)/\(n)", withDestinationPath: ghost)) != nil
            })
            #expect(LabJanitor.resources { $0 == dead } == LabResources(
                netns: [netns], links: [bridge, veth].sorted(), cgroups: [cgroup], leases: [lease]))
            #expect(try waitUntilInCgroup(orphan.pid, container))

            let next = try NodeLab(name: "next")
            defer { next.teardown() }

            #expect(LabJanitor.resources { $0 == dead }.isEmpty)
            #expect(try !netnsList().contains(netns))
            #expect(try linkNames().filter { $0.hasPrefix(ghost) }.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: cgroup))
            #expect(try orphan.waitUntilExit(timeout: .seconds(5)) == .signaled(SIGKILL))
            // The live lab of this (live) process is untouched.
            #expect(try linkNames().contains(live.bridgeName))
            try live.pods[0].check(["true"])
        }

        private func waitUntilInCgroup(_ pid: Int32, _ cgroup: String) throws -> Bool {
            for _ in 0..<100 {
                let procs = (try? String(contentsOfFile: cgroup + "/cgroup.procs", encoding: .utf8)) ?? ""
                if procs.split(separator: "\n").contains("\(pid)") { return true }
                usleep(20_000)
            }
            return false
        }

        private func leaseOwner(_ n: Int) -> String? {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "\(LabNaming.runDirectory)/subnets/\(n)")
        }
    }
}
