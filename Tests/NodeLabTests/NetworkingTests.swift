import Foundation
import Testing
import NodeLab

extension NodeLabTests {
    @Suite(rootOnly) struct Networking {
        /// One-shot TCP echo server on [::]:port (dual stack), says "listening" when ready.
        static let server = """
        import socket, sys
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", int(sys.argv[1]))); s.listen(4)
        print("listening", flush=True)
        for _ in range(int(sys.argv[2])):
            c, peer = s.accept()
            c.sendall(b"pong " + c.recv(100) + b" from " + peer[0].encode()); c.close()
        """
        static let client = """
        import socket, sys
        c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
        c.sendall(b"ping"); print(c.recv(200).decode())
        """

        @Test func twoPodsPingOverIPv4AndIPv6() throws {
            let lab = try NodeLab(name: "ping")
            defer { lab.teardown() }
            let a = try lab.addPod(name: "a")
            let b = try lab.addPod(name: "b", namespace: "other")
            #expect(a.ipv4 != b.ipv4 && a.ipv6 != b.ipv6)
            try a.check(["ping", "-c", "1", "-W", "2", b.ipv4])
            try a.check(["ping", "-c", "1", "-W", "2", b.ipv6])
            try b.check(["ping", "-c", "1", "-W", "2", a.ipv6])
        }

        @Test func tcpConnectionBetweenPodsOverBothFamilies() throws {
            let lab = try NodeLab()
            defer { lab.teardown() }
            let server = try lab.addPod(name: "server")
            let client = try lab.addPod(name: "client")
            let process = try server.spawn(["python3", "-c", Self.server, "8080", "2"])
            try process.waitForOutput("listening")

            let v4 = try client.check(["python3", "-c", Self.client, server.ipv4, "8080"], timeout: .seconds(20))
            #expect(v4.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "pong ping from ::ffff:\(client.ipv4)")
            let v6 = try client.check(["python3", "-c", Self.client, server.ipv6, "8080"], timeout: .seconds(20))
            #expect(v6.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "pong ping from \(client.ipv6)")
            #expect(try process.waitUntilExit(timeout: .seconds(10)) == .exited(0))
        }

        @Test func labsCoexistOnDistinctSubnetsAndAreIsolated() throws {
            let one = try NodeLab(name: "one")
            defer { one.teardown() }
            let two = try NodeLab(name: "two")
            defer { two.teardown() }
            #expect(one.subnetIndex != two.subnetIndex)
            #expect(one.bridgeName != two.bridgeName)
            let a = try one.addPod(name: "a")
            let b = try two.addPod(name: "a")
            #expect(a.ipv4.hasPrefix("10.244.\(one.subnetIndex).") && b.ipv4.hasPrefix("10.244.\(two.subnetIndex)."))
            #expect(a.ipv6.hasPrefix("fd00:10:244:\(one.subnetIndex)::"))
            // Different bridges, no routes: a pod of one lab cannot reach the other lab.
            #expect(try a.run(["ping", "-c", "1", "-W", "1", b.ipv4]).status != 0)
        }

        @Test func iptablesAndTcHelpersActInsideThePod() throws {
            let lab = try NodeLab()
            defer { lab.teardown() }
            let a = try lab.addPod(name: "a")
            let b = try lab.addPod(name: "b")
            try b.iptables(["-A", "INPUT", "-p", "icmp", "-j", "DROP"])
            #expect(try b.iptables(["-S", "INPUT"]).contains("-j DROP"))
            #expect(try a.run(["ping", "-c", "1", "-W", "1", b.ipv4]).status != 0)
            try a.check(["ping", "-c", "1", "-W", "2", b.ipv6])   // ip6tables untouched
            try b.iptables(["-D", "INPUT", "-p", "icmp", "-j", "DROP"])
            try a.check(["ping", "-c", "1", "-W", "2", b.ipv4])
            // The root namespace's tables are not the pod's.
            #expect(!(try Shell.check(["iptables", "-w", "-S", "INPUT"]).stdout.contains("-j DROP")))

            try a.tc(["qdisc", "add", "dev", "eth0", "root", "tbf", "rate", "1mbit", "burst", "32kbit", "latency", "400ms"])
            #expect(try a.tc(["qdisc", "show", "dev", "eth0"]).contains("tbf"))
            try a.check(["ping", "-c", "1", "-W", "2", b.ipv4])
        }
    }
}
