import NIOCore
import NetobsTLS

/// Drives two engines against each other in memory, like a network that never loses bytes.
struct EnginePump {
    let client: TLSEngine
    let server: TLSEngine
    var clientResult: Result<PeerIdentity, Error>?
    var serverResult: Result<PeerIdentity, Error>?

    init(client: TLSEngine, server: TLSEngine) {
        self.client = client
        self.server = server
    }

    /// Moves pending ciphertext both ways; true if anything moved.
    @discardableResult
    func shuttle() -> Bool {
        var moved = false
        if let bytes = client.takeCiphertext() { server.receive(bytes); moved = true }
        if let bytes = server.takeCiphertext() { client.receive(bytes); moved = true }
        return moved
    }

    /// Runs both handshakes until each has completed or failed, or nothing moves.
    mutating func handshake() {
        for _ in 0..<20 {
            if clientResult == nil { clientResult = step(client) }
            if serverResult == nil { serverResult = step(server) }
            if !shuttle() && clientResult != nil && serverResult != nil { return }
        }
    }

    private func step(_ engine: TLSEngine) -> Result<PeerIdentity, Error>? {
        do {
            if case .complete(let peer) = try engine.handshake() { return .success(peer) }
            return nil
        } catch {
            return .failure(error)
        }
    }

    /// Everything `engine` can decrypt now.
    static func readAll(_ engine: TLSEngine) throws -> (bytes: [UInt8], closeNotify: Bool) {
        var buffer = ByteBuffer()
        while true {
            switch try engine.read(into: &buffer) {
            case .bytes: continue
            case .needMoreCiphertext: return (Array(buffer.readableBytesView), false)
            case .closeNotify: return (Array(buffer.readableBytesView), true)
            }
        }
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
    var success: Success? { try? get() }
}
