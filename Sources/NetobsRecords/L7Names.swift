/// Names of HTTP and DNS codes as they appear in records.
public enum L7Names {
    /// enum netobs_http_method (bpf/netobs_layout.h).
    public static func httpMethod(_ code: UInt8) -> String {
        let names = ["", "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]
        return Int(code) < names.count && code > 0 ? names[Int(code)] : "UNKNOWN"
    }

    /// 10 and 11 as the kernel writes them; "" when the request line was cut before it.
    public static func httpVersion(_ code: UInt8) -> String {
        switch code {
        case 10: "HTTP/1.0"
        case 11: "HTTP/1.1"
        default: ""
        }
    }

    /// RFC 1035 and the IANA registry (the common ones; others as TYPEnn, RFC 3597).
    public static func dnsType(_ type: UInt16) -> String {
        switch type {
        case 1: "A"
        case 2: "NS"
        case 5: "CNAME"
        case 6: "SOA"
        case 12: "PTR"
        case 15: "MX"
        case 16: "TXT"
        case 28: "AAAA"
        case 33: "SRV"
        case 35: "NAPTR"
        case 43: "DS"
        case 46: "RRSIG"
        case 48: "DNSKEY"
        case 64: "SVCB"
        case 65: "HTTPS"
        case 99: "SPF"
        case 255: "ANY"
        case 257: "CAA"
        default: "TYPE\(type)"
        }
    }

    /// The 4-bit header RCODE (RFC 1035, 2136).
    public static func dnsResponseCode(_ code: UInt8) -> String {
        switch code {
        case 0: "NOERROR"
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 3: "NXDOMAIN"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        case 6: "YXDOMAIN"
        case 7: "YXRRSET"
        case 8: "NXRRSET"
        case 9: "NOTAUTH"
        case 10: "NOTZONE"
        default: "RCODE\(code)"
        }
    }

    /// A query name in wire form (length-prefixed labels, as the kernel copies it) in dotted
    /// form, without the root's trailing dot ("" is the root). A label cut by truncation is kept
    /// as far as it goes.
    public static func dnsName(wire: [UInt8]) -> String {
        var labels: [String] = []
        var i = 0
        while i < wire.count {
            let length = Int(wire[i])
            if length == 0 || length > 63 { break }
            let end = min(wire.count, i + 1 + length)
            labels.append(String(decoding: wire[(i + 1)..<end], as: UTF8.self))
            i = end
        }
        return labels.joined(separator: ".")
    }
}
