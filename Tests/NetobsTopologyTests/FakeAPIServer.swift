import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NetobsTLS

/// A stand-in Kubernetes API server for tests, on 127.0.0.1 with our TLS: list (paged with
/// limit/continue) and watch (chunked, one JSON event per line, bookmarks on request, 410
/// Gone for compacted resourceVersions) of the four collections the topology uses. Tests
/// change objects, drop watches, compact history, slow lists down and stop/restart it.
/// Without `tls` it speaks plain HTTP (for a TLS terminator in front, see `TLSTerminator`);
/// with `bearerToken` it answers 401 to requests without `Authorization: Bearer <token>`.
final class FakeAPIServer: @unchecked Sendable {
    static let paths = ["/api/v1/pods", "/api/v1/services", "/apis/discovery.k8s.io/v1/endpointslices", "/api/v1/nodes"]

    private struct Watcher { var path: String; var channel: any Channel }
    private struct Event { var rv: Int; var path: String; var line: String }

    private let lock = NSLock()
    private var resourceVersion = 100
    private var objects: [String: [String: [String: Any]]] = [:]  // path → "ns/name" → object
    private var history: [Event] = []
    private var oldestWatchable = 0
    private var watchers: [ObjectIdentifier: Watcher] = [:]
    /// Every accepted connection still open (a client's idle keep-alive ones too).
    private var connections: [ObjectIdentifier: any Channel] = [:]
    private var listDelay: TimeAmount = .zero
    /// Answer an expired watch with HTTP 410 instead of a 200 stream carrying an ERROR event.
    var goneAsHTTPStatus = false
    private(set) var requests: [String] = []
    private var authorizationHeaders: [String] = []
    private var bearerToken: String?

    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let tls: TLSContext?
    private var server: (any Channel)?
    private(set) var port = 0

    init(tls: TLSContext?, bearerToken: String? = nil) throws {
        self.tls = tls
        self.bearerToken = bearerToken
        for path in Self.paths { objects[path] = [:] }
        try start()
    }

    deinit { try? group.syncShutdownGracefully() }

    func start() throws {
        let tls = self.tls
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                // Weak: the last reference must not go on an event loop (deinit shuts the group down).
                let id = ObjectIdentifier(channel)
                self.lock.withLock { self.connections[id] = channel }
                channel.closeFuture.whenComplete { [weak self] _ in
                    guard let self else { return }
                    _ = self.lock.withLock { self.connections.removeValue(forKey: id) }
                }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(TLSHandler(context: tls)) }
                    try sync.configureHTTPServerPipeline(withErrorHandling: false)
                    try sync.addHandler(FakeAPIHandler(server: self))
                }
            }
            .bind(host: "127.0.0.1", port: port).wait()
        lock.withLock {
            server = channel
            port = channel.localAddress?.port ?? 0
        }
    }

    /// Gone: stops listening and closes every connection.
    func stop() throws {
        let (server, open) = lock.withLock { (self.server, Array(connections.values)) }
        try server?.close().wait()
        for channel in open { try? channel.close().wait() }
    }

    // MARK: Controls

    /// Adds or replaces an object (ADDED or MODIFIED to the watchers).
    func apply(_ path: String, _ object: [String: Any]) {
        var object = object
        let key = Self.key(object)
        lock.withLock {
            resourceVersion += 1
            object["metadata"] = (object["metadata"] as! [String: Any]).merging(["resourceVersion": "\(resourceVersion)"]) { $1 }
            let type = objects[path]![key] == nil ? "ADDED" : "MODIFIED"
            objects[path]![key] = object
            record(path, type, object)
        }
    }

    func delete(_ path: String, namespace: String, name: String) {
        lock.withLock {
            guard var object = objects[path]!.removeValue(forKey: namespace.isEmpty ? name : "\(namespace)/\(name)") else { return }
            resourceVersion += 1
            object["metadata"] = (object["metadata"] as! [String: Any]).merging(["resourceVersion": "\(resourceVersion)"]) { $1 }
            record(path, "DELETED", object)
        }
    }

    /// Sends a BOOKMARK at the current resourceVersion on every open watch.
    func bookmark() {
        lock.withLock {
            for watcher in watchers.values {
                let line = Self.line(["type": "BOOKMARK", "object": ["kind": "Bookmark", "metadata": ["resourceVersion": "\(resourceVersion)"]]])
                Self.send(line, on: watcher.channel)
            }
        }
    }

    /// Forgets history: watches from a resourceVersion older than the current one are
    /// answered 410 Gone. With `advancingVersion`, the version first moves on (as writes
    /// elsewhere in the cluster make it), so every watch in progress is then too old.
    func compact(advancingVersion: Bool = true) {
        lock.withLock {
            if advancingVersion { resourceVersion += 1 }
            oldestWatchable = resourceVersion
            history.removeAll()
        }
    }

    /// Closes every watch stream mid-flight, without ending the HTTP response.
    func dropWatches() {
        let open = lock.withLock { watchers.values.map(\.channel) }
        for channel in open { channel.close(promise: nil) }
    }

    func setListDelay(_ delay: TimeAmount) { lock.withLock { listDelay = delay } }
    func setBearerToken(_ token: String?) { lock.withLock { bearerToken = token } }
    /// The Authorization header of each request so far ("" when absent).
    var authorizations: [String] { lock.withLock { authorizationHeaders } }
    var openWatches: Int { lock.withLock { watchers.count } }

    // MARK: Serving (called by the handler on its event loop)

    enum Response {
        case json(status: Int, body: String, delay: TimeAmount)
        case watch(status: Int, lines: [String])
    }

    func respond(to uri: String, authorization: String?, channel: any Channel) -> Response {
        let url = URLComponents(string: uri)!
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        return lock.withLock {
            requests.append(uri)
            authorizationHeaders.append(authorization ?? "")
            if let bearerToken, authorization != "Bearer \(bearerToken)" {
                // What the API server says: nothing about the token it got.
                return .json(status: 401, body: Self.status(401, "Unauthorized", "Unauthorized"), delay: .zero)
            }
            guard let collection = objects[url.path] else {
                return .json(status: 404, body: Self.status(404, "NotFound", "no such collection"), delay: .zero)
            }
            if query["watch"] == "1" {
                let from = Int(query["resourceVersion"] ?? "") ?? 0
                if from < oldestWatchable {
                    let gone = Self.status(410, "Expired", "too old resource version: \(from) (\(oldestWatchable))")
                    if goneAsHTTPStatus { return .json(status: 410, body: gone, delay: .zero) }
                    return .watch(status: 200, lines: [Self.line(["type": "ERROR", "object": try! JSONSerialization.jsonObject(with: Data(gone.utf8))])])
                }
                watchers[ObjectIdentifier(channel)] = Watcher(path: url.path, channel: channel)
                return .watch(status: 200, lines: history.filter { $0.path == url.path && $0.rv > from }.map(\.line))
            }
            // A list, in pages: the continue token is the offset into the sorted names.
            let names = collection.keys.sorted()
            let offset = Int(query["continue"] ?? "") ?? 0
            let limit = Int(query["limit"] ?? "") ?? names.count
            let page = names.dropFirst(offset).prefix(max(limit, 1))
            var metadata: [String: Any] = ["resourceVersion": "\(resourceVersion)"]
            if offset + page.count < names.count { metadata["continue"] = "\(offset + page.count)" }
            let body = Self.line(["kind": "List", "apiVersion": "v1", "metadata": metadata, "items": page.map { collection[$0]! }])
            return .json(status: 200, body: body, delay: listDelay)
        }
    }

    func watchEnded(_ channel: any Channel) {
        _ = lock.withLock { watchers.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    // MARK: Helpers

    private func record(_ path: String, _ type: String, _ object: [String: Any]) {
        let line = Self.line(["type": type, "object": object])
        history.append(Event(rv: resourceVersion, path: path, line: line))
        for watcher in watchers.values where watcher.path == path { Self.send(line, on: watcher.channel) }
    }

    private static func send(_ line: String, on channel: any Channel) {
        var buffer = channel.allocator.buffer(capacity: line.utf8.count + 1)
        buffer.writeString(line + "\n")
        channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer)), promise: nil)
    }

    static func line(_ object: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    static func status(_ code: Int, _ reason: String, _ message: String) -> String {
        line(["kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason, "message": message])
    }

    private static func key(_ object: [String: Any]) -> String {
        let metadata = object["metadata"] as! [String: Any]
        let name = metadata["name"] as! String
        return (metadata["namespace"] as? String).map { "\($0)/\(name)" } ?? name
    }
}

/// One connection of the stand-in: answers each GET with a list or a watch stream.
private final class FakeAPIHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private let server: FakeAPIServer
    private var uri = ""
    private var authorization: String?

    init(server: FakeAPIServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            uri = head.uri
            authorization = head.headers.first(name: "Authorization")
        case .body: break
        case .end:
            switch server.respond(to: uri, authorization: authorization, channel: context.channel) {
            case .json(let status, let body, let delay):
                let channel = context.channel
                channel.eventLoop.scheduleTask(in: delay) {
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: "application/json")
                    headers.add(name: "Content-Length", value: "\(body.utf8.count)")
                    channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers)), promise: nil)
                    var buffer = channel.allocator.buffer(capacity: body.utf8.count)
                    buffer.writeString(body)
                    channel.write(HTTPServerResponsePart.body(.byteBuffer(buffer)), promise: nil)
                    channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
                }
            case .watch(let status, let lines):
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "application/json")
                headers.add(name: "Transfer-Encoding", value: "chunked")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers))), promise: nil)
                for line in lines {
                    var buffer = context.channel.allocator.buffer(capacity: line.utf8.count + 1)
                    buffer.writeString(line + "\n")
                    context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                }
                if lines.first?.contains("\"ERROR\"") == true { context.write(wrapOutboundOut(.end(nil)), promise: nil) }
                context.flush()
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        server.watchEnded(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
