import Foundation
import NetobsKernel
import NodeLab
import Testing

/// The libbpf layer on its own: a rejected program's error carries the verifier's words.
@Suite(.serialized, rootOnly)
struct KernelLayerTests {
    @Test func ringFillIsWhatWaitsOverTheSize() {
        #expect(RingFill.fraction(producer: 4_096, consumer: 1_024, size: 8_192) == 0.375)
        #expect(RingFill.fraction(producer: 100, consumer: 100, size: 8_192) == 0)
        #expect(RingFill.fraction(producer: 99, consumer: 100, size: 8_192) == 0, "a stale producer read is not negative")
        #expect(RingFill.fraction(producer: 20_000, consumer: 0, size: 8_192) == 1)
        #expect(RingFill.fraction(producer: 10, consumer: 0, size: 0) == 0)
    }

    @Test func aVerifierRejectionCarriesTheVerifierLog() throws {
        let bytes = try Fixture.compileBPF("rejected.bpf.c")

        let bpf = try BPFObject(bytes: bytes, name: "rejected")
        defer { bpf.close() }
        do {
            try bpf.load()
            Issue.record("the verifier accepted a wild pointer dereference")
        } catch let error as KernelError {
            #expect(error.errno != 0)
            #expect(error.log.contains("invalid mem access"), "log: \(error.log)")
            #expect(error.description.contains("loading BPF object rejected failed"))
        }
    }
}

/// BPF sources under Fixtures/, compiled at test time by the toolchain's clang.
enum Fixture {
    static func compileBPF(_ name: String, includes: [String] = []) throws -> [UInt8] {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
        let object = FileManager.default.temporaryDirectory.appendingPathComponent("netobs-\(getpid())-\(name).o").path
        defer { try? FileManager.default.removeItem(atPath: object) }
        let clang = Shell.which("clang") ?? "/opt/swift/usr/bin/clang"
        try Shell.check([clang, "-target", "bpf", "-D__TARGET_ARCH_x86", "-O2", "-g", "-I/usr/include/x86_64-linux-gnu",
                         "-Wno-default-const-init-var-unsafe"] + includes.map { "-I" + $0 } + ["-c", source, "-o", object])
        return try [UInt8](Data(contentsOf: URL(fileURLWithPath: object)))
    }

    /// The folder of the vmlinux.h the build generated from this kernel's BTF.
    static func vmlinuxHeader() -> String? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/plugins/outputs").path
        guard let walker = FileManager.default.enumerator(atPath: root) else { return nil }
        while let path = walker.nextObject() as? String {
            if path.hasSuffix("BPFObjectsPlugin/vmlinux.h") {
                return URL(fileURLWithPath: root).appendingPathComponent(path).deletingLastPathComponent().path
            }
        }
        return nil
    }
}
