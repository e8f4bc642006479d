/// Splits a byte stream into frames. Feed it whatever the transport delivered, then call `next()`
/// until it returns nil ("need more bytes").
///
/// Memory stays bounded by one frame plus one read: the header is validated, including the declared
/// length against `maxPayload`, as soon as its bytes arrive, and a payload is copied out only once it
/// is complete. After a frame-level error the decoder stays failed: the stream is out of sync.
public struct FrameDecoder: Sendable {
    public private(set) var maxPayload: UInt32
    private var buffer: [UInt8] = []
    private var start = 0
    private var failure: WireError?

    /// Starts at the pre-handshake limit; raise it with `setMaxPayload` after HelloAccept.
    public init(maxPayload: UInt32 = Limits.handshakePayload) {
        self.maxPayload = min(maxPayload, Limits.absoluteMaxPayload)
    }

    public mutating func setMaxPayload(_ limit: UInt32) {
        maxPayload = min(limit, Limits.absoluteMaxPayload)
    }

    /// Bytes received but not yet returned as frames.
    public var bufferedByteCount: Int { buffer.count - start }

    public mutating func feed<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        guard failure == nil else { return }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, nil if more bytes are needed, or the frame-level error.
    public mutating func next() throws(WireError) -> Frame? {
        if let failure { throw failure }
        let header: FrameHeader?
        do {
            header = try FrameHeader.parse(buffer[start...], maxPayload: maxPayload)
        } catch {
            failure = error
            buffer = []
            start = 0
            throw error
        }
        guard let header else { return nil }
        let total = FrameHeader.size + Int(header.payloadLength)
        guard bufferedByteCount >= total else { return nil }
        let payloadStart = start + FrameHeader.size
        let frame = Frame(type: header.type, version: header.version, flags: header.flags,
                          correlationId: header.correlationId,
                          payload: Array(buffer[payloadStart..<payloadStart + Int(header.payloadLength)]))
        start += total
        compact()
        return frame
    }

    /// Drops consumed bytes once they are at least half the buffer, keeping appends amortized O(1).
    private mutating func compact() {
        if start == buffer.count {
            // Do not hold on to the capacity of one huge program bundle for the connection's life.
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
            start = 0
        } else if start >= 4096 && start * 2 >= buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
    }
}
