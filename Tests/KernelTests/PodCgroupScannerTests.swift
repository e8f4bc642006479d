import Foundation
import NetobsRecords
import Testing
@testable import NetobsAgent

/// The agent's walk of the cgroup hierarchy, on a directory tree laid out like one (no root
/// needed: the walk only reads directories and their inode numbers).
@Suite struct PodCgroupScannerTests {
    let root = NSTemporaryDirectory() + "netobs-cgroups-\(UUID().uuidString)"
    let a = "0b6c5f7e-1d2a-4e3b-9c8d-7f6e5d4c3b2a", b = "11111111-2222-3333-4444-555555555555"
    let c = "22222222-3333-4444-5555-666666666666", d = "33333333-4444-5555-6666-777777777777"

    @discardableResult
    func make(_ relative: String) throws -> UInt64 {
        try FileManager.default.createDirectory(atPath: root + "/" + relative, withIntermediateDirectories: true)
        return try #require(FileManager.default.attributesOfItem(atPath: root + "/" + relative)[.systemFileNumber] as? UInt64)
    }

    func systemd(_ uid: String) -> String {
        "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(uid.replacingOccurrences(of: "-", with: "_")).slice"
    }

    @Test func findsPodsUnderEveryKubeletRootAndNothingElse() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try make("system.slice/sshd.service")
        let podA = try make(systemd(a))
        let containerA = try make(systemd(a) + "/cri-containerd-ff.scope")
        let podB = try make("lab/l1/kubepods/burstable/pod\(b)")
        let containerB = try make("lab/l1/kubepods/burstable/pod\(b)/c0ffee")
        try make("kubepods.slice/kubepods-besteffort.slice")  // a QoS level is no pod
        // Deeper than a kubelet's root is searched for: left alone.
        try make("1/2/3/4/5/6/kubepods/pod\(c)/c1")

        var scanner = PodCgroupScanner(root: root)
        let found = scanner.scan(wanted: [], refresh: true)
        #expect(found == [podA: a, containerA: a, podB: b, containerB: b])
        #expect(scanner.kubeletRoots == ["kubepods.slice", "lab/l1/kubepods"])
    }

    @Test func aLookupFindsNewPodsAndNewKubeletRootsAndForgetsGoneOnes() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let containerA = try make(systemd(a) + "/cri-containerd-ff.scope")
        var scanner = PodCgroupScanner(root: root)
        #expect(scanner.scan(wanted: [], refresh: true)[containerA] == a)

        // A new pod under a known root, and a kubelet root that appeared since the last search.
        let containerB = try make(systemd(b) + "/cri-containerd-ee.scope")
        let containerC = try make("kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod\(c.replacingOccurrences(of: "-", with: "_")).slice/x.scope")
        var found = scanner.scan(wanted: [containerB], refresh: false)
        #expect(found[containerB] == b && found[containerC] == nil, "the known roots answered: no search")
        found = scanner.scan(wanted: [containerC], refresh: false)
        #expect(found[containerA] == a && found[containerB] == b && found[containerC] == c)
        #expect(scanner.kubeletRoots == ["kubelet.slice/kubelet-kubepods.slice", "kubepods.slice"])

        // A cgroupfs-layout root appears at the top; pod a goes (after, so that no directory
        // made here reuses its inode numbers, which cgroup ids never are).
        let containerD = try make("kubepods/pod\(d)/c2")
        try FileManager.default.removeItem(atPath: root + "/" + systemd(a))
        found = scanner.scan(wanted: [], refresh: true)
        #expect(found[containerA] == nil && found[containerB] == b && found[containerC] == c && found[containerD] == d)
    }

    @Test func theResolverLabelsRecordsOfPodCgroupsOnly() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let containerA = try make(systemd(a) + "/cri-containerd-ff.scope")
        let service = try make("system.slice/cron.service")
        func record(_ cgroup: UInt64) -> Record {
            var r = Record(kind: "tcp")
            r.set("cgroup_id", .uint(cgroup))
            r.set("src_ip", .string("10.0.0.1"))
            return r
        }
        let resolver = PodUIDResolver(cgroupRoot: root)
        var loss = Record(kind: "loss")
        loss.set("count", .uint(1))
        let out = resolver.label([record(containerA), record(service), loss])
        #expect(out[0].fields.map(\.0) == ["kind", "cgroup_id", "pod_uid", "src_ip"])
        #expect(out[0]["pod_uid"] == .string(a))
        #expect(out[1] == record(service))
        #expect(out[2] == loss)

        // A pod made later is found by one rescan; the service's id costs none.
        let containerB = try make(systemd(b) + "/cri-containerd-ee.scope")
        #expect(resolver.label([record(containerB), record(service)]).map { $0["pod_uid"] } == [.string(b), nil])
        #expect(resolver.label([record(service), record(containerA)]).map { $0["pod_uid"] } == [nil, .string(a)])
        #expect(resolver.scans == 2)
    }
}
