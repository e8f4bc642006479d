import COpenSSL

/// OpenSSL reports errors on a thread-local queue. It is cleared before each call whose
/// outcome we read (stale entries would change SSL_get_error's answer) and drained into text
/// right after a failure, so errors carry OpenSSL's own reasons.
enum OpenSSLErrorQueue {
    static func clear() { ERR_clear_error() }

    /// The queued errors as "reason (detail)" strings, oldest first; empties the queue.
    static func drain() -> [String] {
        var lines: [String] = []
        while true {
            var data: UnsafePointer<CChar>?
            var flags: Int32 = 0
            let code = ERR_get_error_all(nil, nil, nil, &data, &flags)
            if code == 0 { break }
            var line = reasonText(code)
            if flags & ERR_TXT_STRING != 0, let data, data.pointee != 0 {
                line += " (\(String(cString: data)))"
            }
            lines.append(line)
        }
        return lines
    }

    /// Builds an error from `context` plus the drained queue.
    static func error(_ kind: TLSError.Kind, _ context: String) -> TLSError {
        let reasons = drain()
        return TLSError(kind, reasons.isEmpty ? context : "\(context): \(reasons.joined(separator: "; "))")
    }

    private static func reasonText(_ code: UInt) -> String {
        if let reason = ERR_reason_error_string(code) {
            return String(cString: reason)
        }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
