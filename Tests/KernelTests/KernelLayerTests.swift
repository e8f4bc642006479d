import Foundation
import NetobsKernel
import NodeLab
import Testing

/// The libbpf layer on its own: a rejected program's error carries the verifier's words.
@Suite(.serialized, rootOnly)
struct KernelLayerTests {
    @Test func aVerifierRejectionCarriesTheVerifierLog() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/rejected.bpf.c").path
        let object = FileManager.default.temporaryDirectory.appendingPathComponent("netobs-rejected-\(getpid()).o").path
        defer { try? FileManager.default.removeItem(atPath: object) }
        let clang = Shell.which("clang") ?? "/opt/swift/usr/bin/clang"
        try Shell.check([clang, "-target", "bpf", "-O2", "-g", "-I/usr/include/x86_64-linux-gnu",
                         "-c", fixture, "-o", object])
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: object)))

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
