/// The first line of an HTTP/1.x message at the start of a plaintext chunk: a request line
/// (`GET /path HTTP/1.1`) or a status line (`HTTP/1.1 200 OK`). The same methods and
/// versions as the kernel's cleartext parser (bpf/l7.bpf.c).
public enum HTTP1Head {
    public struct Request: Sendable, Equatable {
        public var method: String
        public var uri: String
        /// "HTTP/1.0", "HTTP/1.1", or "" when the line was cut before it.
        public var version: String
    }

    public struct Status: Sendable, Equatable {
        public var version: String
        public var code: UInt16
    }

    static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]

    private static let space = UInt8(ascii: " "), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")

    public static func request(_ b: [UInt8]) -> Request? {
        guard let sp = b.prefix(8).firstIndex(of: space), sp > 0 else { return nil }
        let method = String(decoding: b[..<sp], as: UTF8.self)
        guard methods.contains(method) else { return nil }
        let uriStart = sp + 1
        var end = uriStart
        while end < b.count, b[end] != space, b[end] != cr, b[end] != lf { end += 1 }
        guard end > uriStart else { return nil }
        let uri = String(decoding: b[uriStart..<end], as: UTF8.self)
        var version = ""
        if end < b.count, b[end] == space, end + 9 <= b.count {
            version = self.version(Array(b[(end + 1)..<(end + 9)])) ?? ""
        }
        return Request(method: method, uri: uri, version: version)
    }

    public static func status(_ b: [UInt8]) -> Status? {
        guard b.count >= 12, let version = version(Array(b[0..<8])), b[8] == space else { return nil }
        var code: UInt16 = 0
        for i in 9..<12 {
            guard b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") else { return nil }
            code = code * 10 + UInt16(b[i] - UInt8(ascii: "0"))
        }
        return Status(version: version, code: code)
    }

    static func version(_ b: [UInt8]) -> String? {
        switch String(decoding: b, as: UTF8.self) {
        case "HTTP/1.0": "HTTP/1.0"
        case "HTTP/1.1": "HTTP/1.1"
        default: nil
        }
    }
}
