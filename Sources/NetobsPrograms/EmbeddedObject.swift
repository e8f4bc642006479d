import Foundation

/// A BPF object compiled at build time from `bpf/NAME.bpf.c` and carried inside the binary.
public struct EmbeddedObject: Sendable {
    public let name: String
    private let base64: String

    public init(name: String, base64: String) {
        self.name = name
        self.base64 = base64
    }

    /// The ELF bytes of the object.
    public var bytes: [UInt8] {
        // The literal was produced by base64(1) at build time; it cannot be malformed.
        [UInt8](Data(base64Encoded: base64)!)
    }
}

/// Namespace for the generated `static let <name>: EmbeddedObject` members, one per object.
public enum EmbeddedPrograms {}
