// libFuzzer harness for NetobsWire, compiled together with Sources/NetobsWire by run-wire-fuzzer.sh.
// Any broken invariant calls fatalError, which libFuzzer reports as a crash with the input saved.

/// Payload decoders are also driven directly (type chosen by the first byte), so inputs reach deep
/// fields without first having to grow a valid header.
private let types: [MessageType] = [.hello, .helloAccept, .heartbeat, .error, .ruleSet, .ruleSetAck,
                                    .programBundle, .programStatus, .flowBatch, .ack, .subscribe, .streamBatch,
                                    .agentListRequest, .agentList, .bootstrapRequest, .bootstrapResponse]

/// Harness limit: small enough that libFuzzer's -malloc_limit_mb catches any allocation not bounded
/// by the input.
private let maxPayload: UInt32 = 1 << 20

private func check(_ ok: @autoclosure () -> Bool, _ what: @autoclosure () -> String) {
    if !ok() { fatalError("invariant broken: \(what())") }
}

private struct Outcome: Equatable {
    var frames: [Frame] = []
    var error: WireError?
}

private func decodeStream(_ bytes: [UInt8], chunk: (Int) -> Int) -> Outcome {
    var d = FrameDecoder(maxPayload: maxPayload)
    var out = Outcome()
    var i = 0
    while i < bytes.count {
        let n = max(1, min(chunk(i), bytes.count - i))
        d.feed(bytes[i..<i + n])
        i += n
        do {
            while let f = try d.next() { out.frames.append(f) }
        } catch {
            out.error = error
            return out
        }
        check(d.bufferedByteCount <= i, "decoder buffers more than it was fed")
    }
    return out
}

/// A decoded message must re-encode canonically (never longer: skipped tags only shrink it) and decode
/// to itself; a failure must be a recoverable, message-level error.
private func checkMessage(type: MessageType, version: UInt16, payload: ArraySlice<UInt8>) {
    let m: Message
    do {
        m = try Message.decode(type: type, version: version, payload: payload)
    } catch {
        check(!error.isFatal, "payload decoding returned a frame-level error \(error)")
        _ = ErrorMessage(error)  // the answer to the peer must be constructible
        return
    }
    do {
        let again = try m.encodePayload()
        check(again.count <= payload.count, "re-encoding grew: \(again.count) > \(payload.count)")
        let m2 = try Message.decode(type: type, version: version, payload: again[...])
        check(m2 == m, "re-encoded message decodes differently")
        let third = try m2.encodePayload()
        check(third == again, "encoding is not deterministic")
    } catch {
        fatalError("a decoded message failed to re-encode or decode: \(error)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func wireFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))

    // 1. As a byte stream: one feed and uneven chunks (sizes taken from the input) agree exactly.
    let whole = decodeStream(bytes) { _ in bytes.count }
    let seed = bytes.first.map(Int.init) ?? 0
    let chunked = decodeStream(bytes) { i in 1 + (i &* 31 &+ seed) % 7 }
    check(whole == chunked, "chunked decoding differs from one-shot decoding")
    if let e = whole.error { check(e.isFatal, "frame decoder threw a message-level error \(e)") }
    // Framing is exact: the frames re-encode to precisely the bytes they were cut from.
    var offset = 0
    for f in whole.frames {
        check(f.payload.count <= Int(maxPayload), "frame above the limit")
        let encoded = encode(f)
        check(encoded[...] == bytes[offset..<offset + encoded.count], "frame does not re-encode to its bytes")
        offset += encoded.count
        checkMessage(type: f.type, version: f.version, payload: f.payload[...])
    }

    // 2. As a bare payload of a known type.
    if let first = bytes.first {
        checkMessage(type: types[Int(first) % types.count], version: 1, payload: bytes.dropFirst())
    }
    return 0
}
