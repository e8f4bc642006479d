/// Everything that can go wrong while decoding (or encoding) the wire protocol.
///
/// Frame-level errors (`isFatal`) mean the byte stream can no longer be trusted to be in sync and the
/// connection must close. Every other error concerns one frame whose length was known, so the peer can
/// answer with an `ErrorMessage` (see `errorCode`) and carry on.
public enum WireError: Error, Equatable, Hashable, Sendable {
    // Frame level (fatal).
    case badMagic(UInt16)
    case unsupportedFrameVersion(UInt8)
    /// The header declared a payload longer than the limit; refused before allocating it.
    case frameTooLarge(declared: UInt64, limit: UInt32)

    // Message level (recoverable: answer with an Error message).
    case unknownMessageType(MessageType)
    case unsupportedMessageVersion(MessageType, version: UInt16)
    /// A field needed `needed` more bytes but only `available` remained in the payload.
    case truncated(field: String, needed: Int, available: Int)
    case invalidUTF8(field: String)
    case lengthLimitExceeded(field: String, length: UInt64, limit: Int)
    case countLimitExceeded(field: String, count: UInt64, limit: Int)
    /// A varint longer than 5 bytes, above 2^32-1, or not minimally encoded.
    case malformedVarint(field: String)
    /// A value outside its documented domain (a bool that is not 0/1, an unknown enum, a range).
    case invalidValue(field: String, value: UInt64)
    /// Tagged fields must come in strictly ascending tag order.
    case taggedFieldOrder(previous: UInt32, tag: UInt32)
    /// Sets are encoded sorted (by UTF-8 bytes) without duplicates, so each has one encoding.
    case unsortedSet(field: String)
    /// A payload or tagged field had bytes left after its last field.
    case trailingBytes(field: String, count: Int)

    /// True when the connection must close because framing itself is broken.
    public var isFatal: Bool {
        switch self {
        case .badMagic, .unsupportedFrameVersion, .frameTooLarge: true
        default: false
        }
    }

    /// The code a peer sends back in an `ErrorMessage` when this error hits one of its frames.
    public var errorCode: ErrorCode {
        switch self {
        case .badMagic, .unsupportedFrameVersion: .malformedFrame
        case .frameTooLarge: .frameTooLarge
        case .unknownMessageType: .unknownMessageType
        case .unsupportedMessageVersion: .unsupportedMessageVersion
        case .lengthLimitExceeded, .countLimitExceeded: .limitExceeded
        case .truncated, .invalidUTF8, .malformedVarint, .invalidValue, .taggedFieldOrder,
             .unsortedSet, .trailingBytes: .malformedPayload
        }
    }
}

extension WireError: CustomStringConvertible {
    /// Short and specific: this text goes to the peer in an Error message.
    public var description: String {
        switch self {
        case .badMagic(let m): "bad magic 0x\(String(m, radix: 16))"
        case .unsupportedFrameVersion(let v): "unsupported frame format version \(v)"
        case .frameTooLarge(let n, let limit): "frame too large: \(n) bytes declared, limit \(limit)"
        case .unknownMessageType(let t): "unknown message type \(t)"
        case .unsupportedMessageVersion(let t, let v): "message type \(t) version \(v) not supported"
        case .truncated(let f, let needed, let available): "\(f): truncated, needs \(needed) bytes, \(available) left"
        case .invalidUTF8(let f): "\(f): invalid UTF-8"
        case .lengthLimitExceeded(let f, let n, let limit): "\(f): length \(n) above limit \(limit)"
        case .countLimitExceeded(let f, let n, let limit): "\(f): count \(n) above limit \(limit)"
        case .malformedVarint(let f): "\(f): malformed varint"
        case .invalidValue(let f, let v): "\(f): invalid value \(v)"
        case .taggedFieldOrder(let p, let t): "tagged field \(t) after \(p): tags must ascend"
        case .unsortedSet(let f): "\(f): set not sorted or has duplicates"
        case .trailingBytes(let f, let n): "\(f): \(n) trailing bytes"
        }
    }
}
