import NIOCore
import NetobsWire

/// Frame subscribers are written on their channel's event loop, all of one loop's in one task:
/// a publish only queues the subscriber and arms that loop's flush (a timer of `window`, or at
/// once when a frame is full), so an agent batch costs no write, encryption or wake-up per
/// consumer, and each consumer gets one frame and one flush per window.
extension StreamHub {
    struct LoopQueue {
        let loop: EventLoop
        /// Subscribers with records waiting, each once (`Subscriber.queued`).
        var ids: [UInt64] = []
        var timerArmed = false
        var immediateArmed = false
    }

    /// A flush to arm outside the lock.
    struct FlushRequest {
        let loop: EventLoop
        let key: ObjectIdentifier
        let immediate: Bool
    }

    func schedule(_ request: FlushRequest) {
        let key = request.key
        if request.immediate {
            request.loop.execute { self.flush(key) }
        } else {
            request.loop.scheduleTask(in: settings.window) { self.flush(key) }
        }
    }

    /// On the loop `key` names: writes what each of its queued subscribers is owed, one flush
    /// per channel. A channel that cannot take more now keeps its records (within the pending
    /// limit) for the next window.
    func flush(_ key: ObjectIdentifier) {
        var rearm: FlushRequest?
        let writes: [(channel: Channel, correlationId: UInt64, batches: [StreamBatch])] = state.withLock { s in
            guard var queue = s.loops[key] else { return [] }
            queue.timerArmed = false
            queue.immediateArmed = false
            var waiting: [UInt64] = []
            var writes: [(Channel, UInt64, [StreamBatch])] = []
            for id in queue.ids {
                guard let sub = s.subscribers[id], case .frames(let channel, let correlationId) = sub.sink else { continue }
                sub.queued = false
                guard channel.isActive else {
                    s.stats.droppedRecords += UInt64(sub.pending.discard())
                    continue
                }
                guard channel.isWritable else {
                    sub.queued = true
                    waiting.append(id)
                    continue
                }
                let batches = sub.pending.take(frameBytes: settings.frameBytes)
                s.stats.deliveredRecords += batches.reduce(0) { $0 + UInt64($1.records.count) }
                writes.append((channel, correlationId, batches))
            }
            queue.ids = waiting
            if waiting.isEmpty {
                s.loops[key] = nil
            } else {
                queue.timerArmed = true
                rearm = FlushRequest(loop: queue.loop, key: key, immediate: false)
                s.loops[key] = queue
            }
            return writes
        }
        if let rearm { schedule(rearm) }
        var unsent: UInt64 = 0
        for write in writes {
            for batch in write.batches {
                do {
                    write.channel.write(try Frame(.streamBatch(batch), correlationId: write.correlationId, flags: .reply),
                                        promise: nil)
                } catch {
                    unsent += UInt64(batch.records.count)  // cut to the limits, so not expected
                }
            }
            write.channel.flush()
        }
        if unsent > 0 {
            state.withLock { s in
                s.stats.deliveredRecords -= unsent
                s.stats.droppedRecords += unsent
            }
        }
    }

    /// Puts a replay in front of what the subscriber was handed since it registered, and sends
    /// both at once.
    func installReplay(_ id: UInt64, _ replay: [RecordRing.Entry]) {
        let request: FlushRequest? = state.withLock { s in
            guard let sub = s.subscribers[id], let channel = sub.channel else { return nil }
            sub.pending.prependReplay(replay)
            sub.replaying = false
            return s.queue(id, on: channel.eventLoop, urgent: true)
        }
        if let request { schedule(request) }
    }
}

extension StreamHub.State {
    /// Queues subscriber `id` (which has records waiting) for its loop's next flush; returns the
    /// flush to arm, if none is armed that is soon enough.
    mutating func queue(_ id: UInt64, on loop: EventLoop, urgent: Bool) -> StreamHub.FlushRequest? {
        let key = ObjectIdentifier(loop)
        var queue = loops[key] ?? StreamHub.LoopQueue(loop: loop)
        if let sub = subscribers[id], !sub.queued {
            sub.queued = true
            queue.ids.append(id)
        }
        var request: StreamHub.FlushRequest?
        if urgent && !queue.immediateArmed {
            queue.immediateArmed = true
            request = StreamHub.FlushRequest(loop: loop, key: key, immediate: true)
        } else if !queue.timerArmed && !queue.immediateArmed {
            queue.timerArmed = true
            request = StreamHub.FlushRequest(loop: loop, key: key, immediate: false)
        }
        loops[key] = queue
        return request
    }
}
