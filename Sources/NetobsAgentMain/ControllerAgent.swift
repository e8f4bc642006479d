import NetobsAgent
import NetobsAgentLink
import NetobsKernel
import NetobsRecords
import NetobsTLS
import NetobsWire
#if canImport(Glibc)
import Glibc
#endif

/// `netobs-agent --controller`: the collectors' records of each flush go to the controller as
/// one FlowBatch (JSON lines), through the on-disk spool, instead of stdout. Records that the
/// spool has no room for are reported in a later batch as `loss` with reason `spool_full`.
enum ControllerAgent {
    struct Settings {
        var endpoint: ControllerEndpoint
        var spoolDirectory: String
        var spoolMaxBytes: Int
        /// Key that program bundles from the controller must be signed with (nil: none accepted).
        var operatorKey: VerifyingKey?
    }

    static func run(_ loop: CollectionLoop.Settings, settings: Settings) throws {
        var loop = loop
        let requests = ControllerRequests(operatorKey: settings.operatorKey)
        loop.requests = { requests.take() }
        let node = loop.l4.node
        let spool = try Spool(directory: settings.spoolDirectory, agentId: node, maxBytes: settings.spoolMaxBytes)
        if !spool.pending.isEmpty {
            AgentLog.info("spool \(settings.spoolDirectory) holds \(spool.pending.count) unacknowledged batches; they go first")
        }
        // The uplink starts once the programs are loaded: its Hello carries the hook tiers.
        var uplink: AgentUplink?
        func connect(_ hooks: [HookStatus]) {
            let started = AgentUplink(endpoint: settings.endpoint, spool: spool,
                                      node: AgentIdentity(nodeName: node, agentVersion: "0.1",
                                                          kernelRelease: KernelFeatures.release()),
                                      hooks: hooks,
                                      control: { message, respond in requests.handle(message, respond: respond) },
                                      log: { AgentLog.info($0) })
            started.start()
            uplink = started
        }

        var reportedOverflow: UInt64 = 0
        func send(_ records: [Record]) throws {
            var records = records
            let overflow = spool.overflow.records
            if overflow > reportedOverflow {
                var loss = Record(kind: "loss")
                loss.set("ts_ns", .uint(Clock.realtimeNs()))
                loss.set("node", .string(node))
                loss.set("reason", .string("spool_full"))
                loss.set("count", .uint(overflow - reportedOverflow))
                loss.set("total", .uint(overflow))
                records.append(loss)
            }
            defer { loop.health?.update { ($0.spoolBatches, $0.spoolBytes) = (spool.pendingCount, spool.pendingBytes) } }
            guard !records.isEmpty else { return }
            let lines = records.map(JSONLineWriter.bytes)
            guard let uplink else { return }
            if try uplink.submit(records: lines) != nil {
                reportedOverflow = overflow
            } else {
                AgentLog.warning("spool full (\(spool.pendingBytes) bytes): \(records.count) records not kept")
            }
        }

        let destination = "sending to \(settings.endpoint.host):\(settings.endpoint.port)"
        try CollectionLoop.run(loop, destination: destination, ready: connect, deliver: send)
        guard let uplink else { return }
        if !uplink.drainBlocking(timeoutMs: 3_000) {
            AgentLog.info("\(spool.pending.count) batches stay in the spool for the next start")
        }
        uplink.stopBlocking()
        AgentLog.info("stopped")
    }
}
