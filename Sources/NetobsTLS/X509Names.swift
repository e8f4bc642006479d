import COpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// Reading names out of certificates: subject fields and subjectAltNames.
enum X509Names {
    static func oneLine(_ name: OpaquePointer?) -> String {
        guard let name else { return "" }
        let bio = MemoryBIO()
        X509_NAME_print_ex(bio.pointer, name, 0, netobs_XN_FLAG_RFC2253())
        return String(decoding: bio.contents(), as: UTF8.self)
    }

    /// Every value of one field (e.g. all OUs) as UTF-8.
    static func values(_ name: OpaquePointer?, nid: Int32) -> [String] {
        guard let name else { return [] }
        var values: [String] = []
        var position: Int32 = -1
        while true {
            position = X509_NAME_get_index_by_NID(name, nid, position)
            if position < 0 { break }
            if let value = text(X509_NAME_get_entry(name, position)) { values.append(value) }
        }
        return values
    }

    /// Every entry as (short field name, UTF-8 value), in order: ("CN", "node-1"), ("O", "netobs").
    static func entries(_ name: OpaquePointer?) -> [(field: String, value: String)] {
        guard let name else { return [] }
        return (0..<max(0, X509_NAME_entry_count(name))).map { i in
            let entry = X509_NAME_get_entry(name, i)
            let nid = entry.flatMap(X509_NAME_ENTRY_get_object).map(OBJ_obj2nid) ?? NID_undef
            return (nid == NID_undef ? "?" : String(cString: OBJ_nid2sn(nid)), text(entry) ?? "")
        }
    }

    private static func text(_ entry: OpaquePointer?) -> String? {
        guard let entry, let data = X509_NAME_ENTRY_get_data(entry) else { return nil }
        var utf8: UnsafeMutablePointer<UInt8>?
        let length = ASN1_STRING_to_UTF8(&utf8, data)
        guard length >= 0, let utf8 else { return nil }
        defer { netobs_OPENSSL_free(utf8) }
        return String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
    }

    struct AltNames {
        var dns: [String] = []
        var ip: [String] = []
        var uri: [String] = []
    }

    static func altNames(_ x509: OpaquePointer) -> AltNames {
        var result = AltNames()
        guard let raw = X509_get_ext_d2i(x509, NID_subject_alt_name, nil, nil) else { return result }
        let names = OpaquePointer(raw)
        defer { netobs_GENERAL_NAMES_free(names) }
        for i in 0..<netobs_GENERAL_NAMES_count(names) {
            var data: UnsafePointer<UInt8>?
            var length: Int32 = 0
            let type = netobs_GENERAL_NAMES_get(names, i, &data, &length)
            guard let data, length >= 0 else { continue }
            let bytes = Array(UnsafeBufferPointer(start: data, count: Int(length)))
            switch type {
            case GEN_DNS: result.dns.append(String(decoding: bytes, as: UTF8.self))
            case GEN_URI: result.uri.append(String(decoding: bytes, as: UTF8.self))
            case GEN_IPADD: if let ip = ipText(bytes) { result.ip.append(ip) }
            default: break
            }
        }
        return result
    }

    private static func ipText(_ bytes: [UInt8]) -> String? {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        guard bytes.count == 16 else { return nil }
        var text = [CChar](repeating: 0, count: 64)
        guard inet_ntop(AF_INET6, bytes, &text, socklen_t(text.count)) != nil else { return nil }
        return text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
