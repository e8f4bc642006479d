import Foundation
import NIOCore
import Synchronization

/// Keeps one kind of object in the store equal to the API server's: list (in pages), then
/// watch from the list's resourceVersion with bookmarks; resume a dropped watch from the last
/// resourceVersion seen, after a backoff; relist when the server answers 410 Gone (that
/// version was compacted away). A relist replaces the kind as a whole, so objects deleted
/// while no watch was running are deleted too.
final class KubeResourceWatcher<Kind: KubeKind>: Sendable {
    private struct Expired: Error {}

    private let client: KubeHTTPClient
    private let store: TopologyStore
    private let settings: KubeWatchSettings
    private let log: @Sendable (String) -> Void
    private let counters: Mutex<KubeWatchCounters>
    private let syncedFlag = Atomic<Bool>(false)

    init(client: KubeHTTPClient, store: TopologyStore, settings: KubeWatchSettings, log: @escaping @Sendable (String) -> Void) {
        self.client = client
        self.store = store
        self.settings = settings
        self.log = log
        counters = Mutex(KubeWatchCounters())
    }

    var snapshot: KubeWatchCounters { counters.withLock { $0 } }
    /// True once the first list has landed in the store.
    var isSynced: Bool { syncedFlag.load(ordering: .acquiring) }

    private var name: String { Kind.path.split(separator: "/").last.map(String.init) ?? Kind.path }

    /// This resource's entry in the store's health (for /metrics).
    private func health(synced: Bool = false, _ change: (inout TopologyWatchHealth) -> Void = { _ in }) {
        store.health.update(source: "kubernetes", resource: name, synced: synced, change)
    }

    /// Runs until the task is cancelled.
    func run() async {
        var resourceVersion: String?
        var backoff = Backoff(initial: settings.initialBackoff, max: settings.maxBackoff)
        while !Task.isCancelled {
            do {
                if resourceVersion == nil {
                    resourceVersion = try await list()
                    backoff.reset()
                }
                try await watch(from: &resourceVersion, backoff: &backoff)
            } catch is Expired {
                counters.withLock { $0.relistsOnGone += 1 }
                health { $0.relists += 1 }
                log("\(name): resourceVersion \(resourceVersion ?? "?") expired (410 Gone); relisting")
                resourceVersion = nil
            } catch {
                if Task.isCancelled { return }
                counters.withLock { $0.watchFailures += 1 }
                health { h in
                    h.failures += 1
                    h.up = false
                }
                let delay = backoff.next()
                log("\(name): \(error); retrying in \(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000) ms")
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// Lists every object (following `continue`), replaces the kind in the store and returns
    /// the resourceVersion to watch from.
    private func list() async throws -> String {
        var objects: [Kind.Model] = []
        var token: String?
        var resourceVersion = ""
        repeat {
            var path = "\(Kind.path)?limit=\(settings.pageSize)"
            if let token { path += "&continue=\(Self.escape(token))" }
            let (status, body) = try await client.getAll(path, timeout: settings.listTimeout)
            if status == 410 { throw Expired() }  // the continue token expired: start over
            guard status == 200 else { throw Self.statusError("list", status, body) }
            let page = try JSONDecoder().decode(KubeList<Kind>.self, from: Data(body))
            let models = page.items.compactMap(\.model)
            counters.withLock { $0.badObjects += page.items.count - models.count }
            objects += models
            resourceVersion = page.metadata.resourceVersion ?? ""
            token = page.metadata.continue.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        store.replace(all: objects)
        counters.withLock { $0.lists += 1 }
        health(synced: true)
        if !syncedFlag.exchange(true, ordering: .acquiringAndReleasing) { log("\(name): listed \(objects.count) at resourceVersion \(resourceVersion)") }
        return resourceVersion
    }

    /// One watch request, applying its events until the server ends it (normal: return) or
    /// it fails (throw). `resourceVersion` follows every event and bookmark.
    private func watch(from resourceVersion: inout String?, backoff: inout Backoff) async throws {
        let path = "\(Kind.path)?watch=1&allowWatchBookmarks=true&resourceVersion=\(Self.escape(resourceVersion ?? ""))"
            + "&timeoutSeconds=\(settings.watchTimeoutSeconds)"
        counters.withLock { $0.watchesStarted += 1 }
        var status = 0
        var pending: [UInt8] = []
        for try await part in try await client.get(path, idleTimeout: settings.watchIdleTimeout) {
            switch part {
            case .head(let code):
                status = code
                if code == 200 {
                    backoff.reset()
                    health(synced: true)
                }
            case .body(let bytes):
                pending += bytes
                guard status == 200 else { continue }
                var start = pending.startIndex
                while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    let line = pending[start..<newline]
                    start = newline + 1
                    if !line.isEmpty { try apply(line, resourceVersion: &resourceVersion) }
                }
                pending.removeSubrange(..<start)
            }
        }
        if status == 410 { throw Expired() }
        guard status == 200 else { throw Self.statusError("watch", status, pending) }
    }

    private func apply(_ line: ArraySlice<UInt8>, resourceVersion: inout String?) throws {
        let data = Data(line)
        let decoder = JSONDecoder()
        guard let type = try? decoder.decode(KubeWatchEventHeader.self, from: data).type else {
            counters.withLock { $0.badObjects += 1 }
            return
        }
        switch type {
        case "ADDED", "MODIFIED", "DELETED":
            guard let event = try? decoder.decode(KubeWatchEvent<Kind>.self, from: data), let model = event.object.model else {
                counters.withLock { $0.badObjects += 1 }
                return
            }
            if type == "DELETED" { store.delete(Kind.Model.self, model.key) } else { store.upsert(model) }
            if let version = event.object.metadata.resourceVersion { resourceVersion = version }
            counters.withLock { $0.events += 1 }
            health(synced: true) { $0.events += 1 }
        case "BOOKMARK":
            if let version = try? decoder.decode(KubeBookmarkEvent.self, from: data).object.metadata.resourceVersion {
                resourceVersion = version
            }
            counters.withLock { $0.bookmarks += 1 }
            health(synced: true)
        case "ERROR":
            let status = try? decoder.decode(KubeStatusEvent.self, from: data).object
            if status?.code == 410 { throw Expired() }
            throw TopologyError("watch error \(status?.code ?? 0) \(status?.reason ?? ""): \(status?.message ?? "")")
        default:
            counters.withLock { $0.badObjects += 1 }
        }
    }

    /// The server's message; for refused credentials, which ones to check (never their value).
    private static func statusError(_ what: String, _ status: Int, _ body: [UInt8]) -> TopologyError {
        if status == 401 {
            return TopologyError("\(what) answered HTTP 401 Unauthorized: the API server did not accept the credentials "
                + "(service-account or kubeconfig token, client certificate, or exec plugin credential)")
        }
        let message = (try? JSONDecoder().decode(KubeStatusEvent.Status.self, from: Data(body)))?.message
        return TopologyError("\(what) answered HTTP \(status)\(message.map { ": \($0)" } ?? "")")
    }

    private static func escape(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn:
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? value
    }
}
