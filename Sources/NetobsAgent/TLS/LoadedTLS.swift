import CNetobsLayout
import NetobsKernel
import NetobsPrograms
import NetobsRecords

/// The TLS plaintext programs (bpf/tls.bpf.c) loaded: the socket-I/O, mmap and exec tracepoints
/// attached at once, the uprobes attached per libssl file as they are found.
final class LoadedTLS {
    static let objectName = "tls"
    enum Maps {
        static let events = "netobs_tls_events"
        static let execs = "netobs_exec_events"
        static let counters = "netobs_tls_counters"
        static let config = "netobs_tls_config"
        static let binaries = "netobs_tls_binaries"
        static let binaryNames = "netobs_tls_binary_names"
    }

    /// (program, function, return probe): what one libssl gets. SSL_read and SSL_write call
    /// the same internals as their _ex forms, not each other: no call is seen twice.
    static let probes: [(program: String, function: String, retprobe: Bool)] = [
        ("netobs_ssl_write", "SSL_write", false), ("netobs_ssl_write_ret", "SSL_write", true),
        ("netobs_ssl_read", "SSL_read", false), ("netobs_ssl_read_ret", "SSL_read", true),
        ("netobs_ssl_write_ex", "SSL_write_ex", false), ("netobs_ssl_write_ex_ret", "SSL_write_ex", true),
        ("netobs_ssl_read_ex", "SSL_read_ex", false), ("netobs_ssl_read_ex_ret", "SSL_read_ex", true),
    ]

    let object: BPFObject
    let events: BPFMap
    let execs: BPFMap
    let counters: BPFMap
    let config: BPFMap
    /// Processes named by the rule tls_binaries (tgid -> 1).
    let binaries: BPFMap
    /// The rule's names, zero-padded to 16 bytes (what the exec tracepoint compares comm with).
    let binaryNames: BPFMap

    /// `attach` false: load only (does the kernel take them?).
    init(bytes: [UInt8] = EmbeddedPrograms.tls.bytes, rules: CollectionRules = CollectionRules(), attach: Bool) throws {
        object = try BPFObject(bytes: bytes, name: Self.objectName)
        do {
            try object.load()
            config = try object.map(named: Maps.config)
            try config.update(key: [0, 0, 0, 0], value: Self.config(rules))
            binaries = try object.map(named: Maps.binaries)
            binaryNames = try object.map(named: Maps.binaryNames)
            if attach {
                for program in object.programs
                where program.section.hasPrefix("tracepoint/") || program.section.hasPrefix("raw_tp/") {
                    try object.attach(program)
                }
            }
            events = try object.map(named: Maps.events)
            execs = try object.map(named: Maps.execs)
            counters = try object.map(named: Maps.counters)
        } catch {
            object.close()
            throw error
        }
    }

    /// A process name as the kernel keeps it: 15 bytes and a NUL, zero-padded.
    static func commKey(_ name: String) -> [UInt8] {
        let bytes = Array(name.utf8.prefix(15))
        return bytes + [UInt8](repeating: 0, count: 16 - bytes.count)
    }

    static func config(_ rules: CollectionRules) -> [UInt8] {
        var value = netobs_tls_config()
        value.tls_off = rules.tls ? 0 : 1
        switch rules.tlsBinaries?.mode {
        case nil: value.binaries_mode = UInt8(NETOBS_TLS_BINARIES_ALL.rawValue)
        case .include?: value.binaries_mode = UInt8(NETOBS_TLS_BINARIES_INCLUDE.rawValue)
        case .exclude?: value.binaries_mode = UInt8(NETOBS_TLS_BINARIES_EXCLUDE.rawValue)
        }
        return withUnsafeBytes(of: value) { Array($0) }
    }

    /// Attaches the probes to the libssl at `path`. SSL_read/SSL_write must attach; the _ex
    /// forms (OpenSSL 1.1.1 and later) when the library has them.
    func attachLibrary(_ path: String) throws {
        for probe in Self.probes {
            guard let program = object.program(named: probe.program) else {
                throw KernelError("finding program \(probe.program)", errno: 2)
            }
            do {
                try object.attachUprobe(program, binary: path, function: probe.function, retprobe: probe.retprobe)
            } catch where probe.function.hasSuffix("_ex") {
                continue
            }
        }
    }

    func close() { object.close() }
}
