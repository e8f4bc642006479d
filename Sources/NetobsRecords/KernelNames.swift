/// Names of kernel constants as they appear in records.
public enum KernelNames {
    /// include/net/tcp_states.h
    public static func tcpState(_ state: UInt8) -> String {
        switch state {
        case 1: "ESTABLISHED"
        case 2: "SYN_SENT"
        case 3: "SYN_RECV"
        case 4: "FIN_WAIT1"
        case 5: "FIN_WAIT2"
        case 6: "TIME_WAIT"
        case 7: "CLOSE"
        case 8: "CLOSE_WAIT"
        case 9: "LAST_ACK"
        case 10: "LISTEN"
        case 11: "CLOSING"
        case 12: "NEW_SYN_RECV"
        case 13: "BOUND_INACTIVE"
        default: "UNKNOWN_\(state)"
        }
    }

    /// The socket errors a TCP connection ends with.
    public static func errno(_ code: UInt32) -> String {
        switch code {
        case 104: "ECONNRESET"
        case 110: "ETIMEDOUT"
        case 111: "ECONNREFUSED"
        case 113: "EHOSTUNREACH"
        case 101: "ENETUNREACH"
        case 32: "EPIPE"
        case 103: "ECONNABORTED"
        case 71: "EPROTO"
        default: "E\(code)"
        }
    }

    public static func role(_ role: UInt8) -> String {
        switch role {
        case 1: "client"
        case 2: "server"
        default: "unknown"
        }
    }

    public static let tcpClose: UInt8 = 7
    public static let tcpSynSent: UInt8 = 2
}
