#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import NodeLab

extension NodeLabTests {
    @Suite(rootOnly) struct Processes {
        @Test func spawnedProcessIsTheWorkloadInsideThePodsNetnsAndCgroup() throws {
            let lab = try NodeLab()
            defer { lab.teardown() }
            let pod = try lab.addPod(name: "web", namespace: "shop")
            #expect(pod.uid == pod.uid.lowercased() && UUID(uuidString: pod.uid) != nil)
            #expect(pod.containerID.count == 64 && pod.containerID.allSatisfy(\.isHexDigit))
            #expect(pod.cgroupPath.hasSuffix("/kubepods/pod\(pod.uid)/\(pod.containerID)"))

            let process = try pod.spawn(["sleep", "30"])
            defer { process.terminate() }
            // The pid we hold is `sleep` itself: the wrappers exec'd in place.
            #expect(try waitForComm(pid: process.pid, "sleep"))

            let netns = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(process.pid)/ns/net")
            #expect(netns == "net:[\(pod.netnsInode)]")

            let cgroupLine = try String(contentsOfFile: "/proc/\(process.pid)/cgroup", encoding: .utf8)
                .split(separator: "\n").first { $0.hasPrefix("0::") }
            let cgroup = try #require(cgroupLine).dropFirst(3)
            #expect(cgroup.hasSuffix("kubepods/pod\(pod.uid)/\(pod.containerID)"))
            #expect(lab.cgroup2Mount + cgroup == pod.cgroupPath)
            var st = stat()
            #expect(stat(lab.cgroup2Mount + cgroup, &st) == 0 && UInt64(st.st_ino) == pod.cgroupID)
            let procs = try String(contentsOfFile: pod.cgroupPath + "/cgroup.procs", encoding: .utf8)
            #expect(procs.split(separator: "\n") == ["\(process.pid)"])

            #expect(process.isRunning)
            #expect(process.terminate() == .signaled(SIGTERM))
            #expect(!process.isRunning && process.exitStatus == 128 + SIGTERM)
        }

        @Test func runCapturesOutputAndStatus() throws {
            let lab = try NodeLab()
            defer { lab.teardown() }
            let pod = try lab.addPod(name: "a")
            let result = try pod.run(["sh", "-c", "echo out; echo err >&2; ip -o -4 addr show dev eth0; exit 3"])
            #expect(result.status == 3)
            #expect(result.stdout.hasPrefix("out\n") && result.stdout.contains(pod.ipv4 + "/24"))
            #expect(result.stderr == "err\n")
            #expect(throws: NodeLabError.self) { try pod.check(["false"]) }
            #expect(throws: NodeLabError.self) { try pod.run(["no-such-program-nodelab"]) }
        }

        @Test func runKillsOnTimeoutAndSaysSo() throws {
            let lab = try NodeLab()
            defer { lab.teardown() }
            let pod = try lab.addPod(name: "a")
            let started = Date()
            do {
                _ = try pod.run(["sh", "-c", "echo started; exec sleep 60"], timeout: .milliseconds(500))
                Issue.record("expected a timeout")
            } catch let error as NodeLabError {
                guard case let .timedOut(argv, _, stdout, _) = error else { throw error }
                #expect(argv.first == "sh" && stdout == "started\n")
                #expect("\(error)".contains("timed out"))
            }
            #expect(Date().timeIntervalSince(started) < 10)
            #expect(cgroupProcs(pod).isEmpty)
        }

        @Test func terminateEscalatesToSIGKILL() throws {
            let lab = try NodeLab()
            defer { lab.teardown() }
            let pod = try lab.addPod(name: "a")
            let stubborn = try pod.spawn(["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"])
            try stubborn.waitForOutput("ready")
            #expect(stubborn.terminate(grace: .milliseconds(300)) == .signaled(SIGKILL))
        }

        @Test func exitedCanBeAwaited() async throws {
            let lab = try NodeLab()
            defer { lab.teardown() }
            let process = try lab.addPod(name: "a").spawn(["sh", "-c", "sleep 0.2; exit 7"])
            #expect(await process.exited() == .exited(7))
        }

        private func waitForComm(pid: Int32, _ comm: String) throws -> Bool {
            // Between spawn and exec the pid is still sh / ip: give it a moment.
            for _ in 0..<100 {
                let current = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
                if current.trimmingCharacters(in: .newlines) == comm { return true }
                usleep(20_000)
            }
            return false
        }
    }
}

/// Pids currently in a pod's container cgroup.
func cgroupProcs(_ pod: Pod) -> [Substring] {
    ((try? String(contentsOfFile: pod.cgroupPath + "/cgroup.procs", encoding: .utf8)) ?? "").split(separator: "\n")
}
