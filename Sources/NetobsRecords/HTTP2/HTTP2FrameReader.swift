/// One direction of an HTTP/2 connection as a byte stream cut into frames (RFC 9113 4.1).
/// Bytes come in calls (SSL_write/SSL_read, or what the kernel captured of them); bytes a
/// call moved but were not captured are a gap: inside a DATA payload it is skipped, anywhere
/// else the reader is out of step for good (`lost`).
struct HTTP2FrameReader: Sendable {
    struct Frame: Sendable {
        var type: UInt8
        var flags: UInt8
        var stream: UInt32
        /// Empty for DATA (its payload is skipped unread).
        var payload: [UInt8]
    }

    static let dataType: UInt8 = 0
    /// Frames larger than this are not buffered (SETTINGS_MAX_FRAME_SIZE may reach 16 MiB;
    /// header blocks that large are not followed).
    static let maxBuffered = 1 << 20

    private var buffer: [UInt8] = []
    private var start = 0
    /// Bytes of a DATA payload still to pass over.
    private var skipping = 0
    private(set) var lost = false
    /// Bytes still expected for the preface (the client's direction starts with it).
    private var preface: Int

    init(expectPreface: Bool) { preface = expectPreface ? HTTP2Session.preface.count : 0 }

    /// Takes `bytes` and returns the frames they complete.
    mutating func add(_ bytes: [UInt8]) -> [Frame] {
        guard !lost else { return [] }
        var bytes = bytes[...]
        if preface > 0 {
            let n = min(preface, bytes.count)
            preface -= n
            bytes = bytes.dropFirst(n)
        }
        if skipping > 0 {
            let n = min(skipping, bytes.count)
            skipping -= n
            bytes = bytes.dropFirst(n)
        }
        buffer.append(contentsOf: bytes)
        var frames: [Frame] = []
        while buffer.count - start >= 9 {
            let h = start
            let length = Int(buffer[h]) << 16 | Int(buffer[h + 1]) << 8 | Int(buffer[h + 2])
            let type = buffer[h + 3], flags = buffer[h + 4]
            let stream = (UInt32(buffer[h + 5]) << 24 | UInt32(buffer[h + 6]) << 16 | UInt32(buffer[h + 7]) << 8
                | UInt32(buffer[h + 8])) & 0x7fff_ffff
            if type == Self.dataType {
                start += 9
                let here = min(length, buffer.count - start)
                start += here
                skipping = length - here
                frames.append(Frame(type: type, flags: flags, stream: stream, payload: []))
                if skipping > 0 { break }
                continue
            }
            guard length <= Self.maxBuffered else {
                lost = true
                break
            }
            guard buffer.count - start - 9 >= length else { break }
            frames.append(Frame(type: type, flags: flags, stream: stream, payload: Array(buffer[(h + 9)..<(h + 9 + length)])))
            start += 9 + length
        }
        if start > 0 && (start == buffer.count || start > 1 << 16) {
            buffer.removeFirst(start)
            start = 0
        }
        return frames
    }

    /// `count` bytes the call moved were not captured.
    mutating func gap(_ count: Int) {
        guard count > 0, !lost else { return }
        if preface > 0 || buffer.count > start || skipping < count {
            lost = true // inside a frame header or a frame kept whole
            return
        }
        skipping -= count
    }
}
