import COpenSSL
import NIOCore

/// One TLS connection as a pure state machine: an OpenSSL `SSL` between two memory BIOs, with
/// no I/O of its own. Whoever drives it moves bytes: ciphertext from the network goes in with
/// `receive`, ciphertext to send comes out of `takeCiphertext`, plaintext goes through
/// `write`/`read`. After any call, `takeCiphertext` may have bytes to send (handshake messages,
/// records, alerts, close_notify). Not thread-safe: one owner (an event loop) drives it.
public final class TLSEngine {
    public enum HandshakeProgress: Equatable, Sendable {
        case inProgress
        case complete(PeerIdentity)
        /// Only on a server that asks for no client certificate (`TLSContext.verifiesPeer` false).
        case completeWithoutPeerCertificate
    }

    public enum ReadResult: Equatable, Sendable {
        /// This many plaintext bytes were appended.
        case bytes(Int)
        /// No whole record is buffered: feed more ciphertext.
        case needMoreCiphertext
        /// The peer sent close_notify: no more data will come.
        case closeNotify
    }

    public enum State: Equatable, Sendable {
        case handshaking, established, closing, closed, failed
    }

    public private(set) var state: State = .handshaking
    /// Set once the handshake completes: the peer's verified certificate identity.
    public private(set) var peerIdentity: PeerIdentity?

    private let ssl: OpaquePointer
    private let inbound: OpaquePointer   // network -> SSL (owned by ssl)
    private let outbound: OpaquePointer  // SSL -> network (owned by ssl)
    private let context: TLSContext
    private let serverName: String?
    private var failure: TLSError?
    private var receivedCloseNotify = false

    /// `serverName` is required for clients: the DNS name or IP address the server's
    /// certificate must carry. Servers take none (clients are checked by chain and role).
    public init(context: TLSContext, serverName: String? = nil) throws {
        if context.role == .client && (serverName ?? "").isEmpty {
            throw TLSError(.configuration, "a TLS client needs the server name to verify")
        }
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context.ctx) else {
            throw OpenSSLErrorQueue.error(.configuration, "cannot create an OpenSSL connection")
        }
        self.ssl = ssl
        self.context = context
        self.serverName = serverName
        inbound = BIO_new(BIO_s_mem())
        outbound = BIO_new(BIO_s_mem())
        // An empty inbound BIO means "wait for more", never end of stream.
        netobs_BIO_set_mem_eof_return(inbound, -1)
        netobs_BIO_set_mem_eof_return(outbound, -1)
        SSL_set_bio(ssl, inbound, outbound)

        switch context.role {
        case .server:
            SSL_set_accept_state(ssl)
        case .client:
            SSL_set_connect_state(ssl)
            // Fully initialized here: a throw runs deinit, which frees `ssl`.
            try Self.expect(serverName: serverName!, on: ssl)
        }
    }

    deinit { SSL_free(ssl) }

    /// An IP literal is matched against IP SANs only; anything else is a DNS name, matched
    /// against DNS SANs (wildcards in the leftmost label only) and sent as SNI.
    private static func expect(serverName: String, on ssl: OpaquePointer) throws {
        let param = SSL_get0_param(ssl)
        if X509_VERIFY_PARAM_set1_ip_asc(param, serverName) == 1 { return }
        OpenSSLErrorQueue.clear()
        X509_VERIFY_PARAM_set_hostflags(param, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
        guard SSL_set1_host(ssl, serverName) == 1, netobs_SSL_set_tlsext_host_name(ssl, serverName) == 1 else {
            throw OpenSSLErrorQueue.error(.configuration, "bad server name \"\(serverName)\"")
        }
    }

    // MARK: Moving ciphertext

    /// Ciphertext from the network.
    public func receive(_ ciphertext: ByteBuffer) {
        ciphertext.withUnsafeReadableBytes { bytes in
            guard bytes.count > 0 else { return }
            // Memory BIO writes only fail on allocation failure.
            _ = BIO_write(inbound, bytes.baseAddress, Int32(bytes.count))
        }
    }

    public func receive(_ bytes: [UInt8]) {
        receive(ByteBuffer(bytes: bytes))
    }

    /// Ciphertext waiting to go to the network, or nil.
    public func takeCiphertext(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer? {
        let pending = BIO_ctrl_pending(outbound)
        guard pending > 0 else { return nil }
        var buffer = allocator.buffer(capacity: pending)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { space in
            Int(max(0, BIO_read(outbound, space.baseAddress, Int32(pending))))
        }
        return buffer
    }

    // MARK: Handshake

    /// Advances the handshake with whatever ciphertext was received.
    public func handshake() throws -> HandshakeProgress {
        switch state {
        case .handshaking: break
        case .failed: throw failure!
        default:
            if let peerIdentity { return .complete(peerIdentity) }
            if !context.verifiesPeer && state != .closed { return .completeWithoutPeerCertificate }
            throw TLSError(.handshake, "connection closed before the handshake finished")
        }
        OpenSSLErrorQueue.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            if !context.verifiesPeer {
                state = .established
                return .completeWithoutPeerCertificate
            }
            guard let peer = SSL_get0_peer_certificate(ssl) else {
                // Unreachable with SSL_VERIFY_PEER on both sides; refuse rather than trust.
                throw fail(TLSError(.handshake, "peer presented no certificate"))
            }
            let identity = PeerIdentity(certificate: peer)
            peerIdentity = identity
            state = .established
            return .complete(identity)
        }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .inProgress
        default:
            throw fail(handshakeError())
        }
    }

    /// OpenSSL's reasons, plus what chain verification said about the peer's certificate.
    private func handshakeError() -> TLSError {
        var reasons = OpenSSLErrorQueue.drain()
        let verify = SSL_get_verify_result(ssl)
        if verify == X509_V_ERR_APPLICATION_VERIFICATION && context.role == .server {
            reasons.insert(PeerRoleCheck.failureMessage(accepted: context.acceptedClientRoles), at: 0)
        } else if verify != X509_V_OK {
            var text = "peer certificate: \(String(cString: X509_verify_cert_error_string(verify)))"
            if verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH,
               let serverName {
                text += " (expected \(serverName))"
            }
            reasons.insert(text, at: 0)
        }
        let what = context.role == .server ? "handshake with client failed" : "handshake with server failed"
        return TLSError(.handshake, reasons.isEmpty ? what : "\(what): \(reasons.joined(separator: "; "))")
    }

    // MARK: Application data

    /// Encrypts all of `plaintext`; the records are then in `takeCiphertext`.
    public func write(_ plaintext: ByteBuffer) throws {
        guard state == .established else {
            if let failure { throw failure }
            throw TLSError(.protocol, "cannot write: TLS connection is \(state)")
        }
        var remaining = plaintext
        while remaining.readableBytes > 0 {
            OpenSSLErrorQueue.clear()
            var written = 0
            let ok = remaining.withUnsafeReadableBytes { SSL_write_ex(ssl, $0.baseAddress, $0.count, &written) }
            guard ok == 1 else {
                throw fail(OpenSSLErrorQueue.error(.protocol, "TLS write failed"))
            }
            remaining.moveReaderIndex(forwardBy: written)
        }
    }

    /// Decrypts what it can into `buffer`. Call until it stops returning `.bytes`.
    public func read(into buffer: inout ByteBuffer) throws -> ReadResult {
        switch state {
        case .established, .closing: break
        case .failed: throw failure!
        case .handshaking: return .needMoreCiphertext
        case .closed: return .closeNotify
        }
        if receivedCloseNotify { return .closeNotify }
        OpenSSLErrorQueue.clear()
        var count = 0
        var result: Int32 = 0
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 16384) { space in
            result = SSL_read_ex(ssl, space.baseAddress, space.count, &count)
            return result == 1 ? count : 0
        }
        if result == 1 { return .bytes(count) }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .needMoreCiphertext
        case SSL_ERROR_ZERO_RETURN:
            receivedCloseNotify = true
            if state == .closing { state = .closed }
            return .closeNotify
        default:
            throw fail(OpenSSLErrorQueue.error(.protocol, "TLS connection failed"))
        }
    }

    // MARK: Closing

    /// Sends close_notify (then in `takeCiphertext`). Returns true when the peer's
    /// close_notify was already received, so the connection is cleanly closed both ways.
    @discardableResult
    public func close() -> Bool {
        switch state {
        case .established:
            OpenSSLErrorQueue.clear()
            SSL_shutdown(ssl)
            OpenSSLErrorQueue.clear()
            state = receivedCloseNotify ? .closed : .closing
        case .handshaking:
            // Nothing was established: there is nothing to close cleanly.
            state = .closed
        case .closing, .closed, .failed:
            break
        }
        return state == .closed
    }

    @discardableResult
    private func fail(_ error: TLSError) -> TLSError {
        failure = error
        state = .failed
        return error
    }
}
