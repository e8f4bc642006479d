import ArgumentParser
import NetobsAgentLink
import NetobsRecords
import NetobsTLS
import NetobsWire
#if canImport(Glibc)
import Glibc
#endif

/// `netobs tail`: prints the controller's record stream, filtered by the controller.
struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Follow the controller's record stream (consumer role), filtered by the controller.",
        discussion: """
            Filters as in `hubble observe`: a filter given several times matches any of its values \
            (--from-pod a --from-pod b: from a or from b); different filters must all match; --not \
            negates the filter flag right after it, and the negated filters together say what to drop \
            (--not --namespace kube-system; --not --from-pod a --not --port 53 drops a's records on \
            port 53 only). The controller applies them (older controllers apply only --namespace, \
            --pod, --service, --kind, --protocol, --status given once; the rest is applied here, so the \
            output is the same). Follows until interrupted; reconnects and re-subscribes on its own \
            (records arriving while disconnected are not replayed).

            --last N first shows the N most recent matching records the controller still holds \
            (it keeps its last `--replay-records`, 10000 by default), oldest first, then follows \
            with no gap and no repeat between the two; with --no-follow it exits after them. \
            --since/--until (RFC 3339, or a duration before now: 5m, 1h30m) select by the records' \
            ts_ns from the records the controller holds in memory and the live ones: --since shows \
            every held record since then first; an --until in the past ends after the held records, \
            one in the future ends once the clock passes it (plus 5 s for records in flight).
            """)

    @Option(help: ArgumentHelp("The controller.", valueName: "host:port"))
    var controller: String

    @OptionGroup var tls: TLSFiles

    @OptionGroup(title: "Filters (repeat a flag to OR its values; --not negates the next filter)")
    var filters: TailFilterOptions

    @Option(help: ArgumentHelp("Records from this time on: RFC 3339 (2025-05-01T10:00:00Z) or a duration before now (5m).",
                               valueName: "time"))
    var since: String?

    @Option(help: ArgumentHelp("Records up to this time (as --since); in the past: exit after the held records.",
                               valueName: "time"))
    var until: String?

    @Option(name: [.short, .customLong("output")],
            help: "table: one aligned line per record; json or jsonl: each record exactly as received, one per line.")
    var output: ListingFormat = .table

    @Flag(help: ArgumentHelp("Deprecated: use -o jsonl.", visibility: .hidden))
    var json = false

    @Option(help: "Time column of the table: time (13:04:05.123), rfc3339, rfc3339nano, unix, unixnano, relative (4.2s ago); UTC.")
    var timeFormat: TimeFormat = .time

    @Option(help: "Colour the table: auto (a terminal, NO_COLOR unset), always, never.")
    var color: ColorChoice = .auto

    @Option(help: ArgumentHelp("First show the N most recent matching records the controller holds.", valueName: "n"))
    var last: UInt32 = 0

    @Flag(help: "Exit after the records of --last/--since instead of following.")
    var noFollow = false

    func validate() throws {
        guard ControllerEndpoint.parse(controller) != nil else { throw ValidationError("--controller must be HOST:PORT") }
        let known = ["tcp", "udp", "http", "dns"]
        guard filters.proto.allSatisfy(known.contains) else { throw ValidationError("--protocol must be one of tcp, udp, http, dns") }
        guard !noFollow || last > 0 || since != nil || until != nil else {
            throw ValidationError("--no-follow needs --last N (N > 0), --since or --until")
        }
        let now = TimeFormat.nowNs()
        let (since, until) = try timeBounds(nowNs: now)
        if since > 0 && until > 0 && until < since { throw ValidationError("--until is before --since") }
        // Where --not stands and what the filters' values are, as a usage error of this command.
        _ = try plan(arguments: Self.ownArguments(), nowNs: now)
    }

    /// --since and --until as unix ns (0: not given).
    func timeBounds(nowNs: UInt64) throws -> (since: UInt64, until: UInt64) {
        do {
            return (try since.map { try TimeBound.parse($0, nowNs: nowNs) } ?? 0,
                    try until.map { try TimeBound.parse($0, nowNs: nowNs) } ?? 0)
        } catch {
            throw ValidationError("--since/--until: \(error)")
        }
    }

    /// What to ask the controller for and how to filter what comes back, from the arguments
    /// (their order tells what `--not` negates).
    func plan(arguments: [String], nowNs: UInt64) throws -> TailPlan {
        let ordered: TailFilterArguments
        do {
            ordered = try TailFilterArguments(arguments)
        } catch {
            throw ValidationError(error.description)
        }
        let (sinceNs, untilNs) = try timeBounds(nowNs: nowNs)
        // --since/--until without --last: every held record in the window.
        let replay = last > 0 ? last : (sinceNs > 0 || untilNs > 0 ? UInt32.max : 0)
        do {
            let (subscribe, filter) = try ordered.subscription(replayLast: replay, sinceNs: sinceNs, untilNs: untilNs)
            let endsAfterReplay = noFollow || (untilNs > 0 && untilNs < nowNs)
            return TailPlan(subscribe: subscribe, filter: filter, endsAfterReplay: endsAfterReplay,
                            untilNs: endsAfterReplay ? 0 : untilNs)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        let (host, port) = ControllerEndpoint.parse(controller)!
        let plan = try plan(arguments: Self.ownArguments(), nowNs: TimeFormat.nowNs())
        let context: TLSContext
        do {
            context = try tls.clientContext(role: "consumer")
        } catch let error as TLSError {
            throw CommandFailure(error.message)
        }
        if json { Deprecation.warn("--json", use: "-o jsonl", command: "tail") }
        signal(SIGPIPE, SIG_IGN)
        let colour = color.enabled(isTerminal: isatty(1) == 1, noColor: getenv("NO_COLOR").map { String(cString: $0) })
        let printer = TailPrinter(format: json ? .jsonl : output, colour: colour, timeFormat: timeFormat, filter: plan.filter)
        if let header = printer.header { Output.write(header + "\n", to: 1) }
        let endsAfterReplay = plan.endsAfterReplay
        let stream = ConsumerStream(
            endpoint: ControllerEndpoint(host: host, port: port, tls: context),
            filter: plan.subscribe,
            log: { line in Output.write("netobs tail: \(line)\n", to: 2) },
            onReplayRefused: {
                guard endsAfterReplay else { return }
                Output.write("netobs tail: the controller cannot show recent records (--last/--since/--until); nothing to print\n", to: 2)
                Glibc.exit(1)
            },
            onBatch: { batch in
                if batch.dropped > 0 { Output.write("netobs tail: \(batch.dropped) records dropped (reading too slowly)\n", to: 2) }
                if !Output.write(printer.text(batch.records), to: 1) { Glibc.exit(0) }
                if endsAfterReplay && batch.replayEnd { Glibc.exit(0) }
            })
        stream.start()
        if plan.untilNs > 0 {
            // Records reach the controller up to a flush interval or two after their ts_ns.
            let waitNs = plan.untilNs + TailPlan.inFlightNs - min(plan.untilNs + TailPlan.inFlightNs, TimeFormat.nowNs())
            try await Task.sleep(for: .nanoseconds(Int64(waitNs)))
            await stream.stop()
            return
        }
        while true { try await Task.sleep(for: .seconds(3600)) }
    }

    /// This command's own arguments, as ArgumentParser read them (after `netobs tail`); none
    /// when this process is not `netobs tail` (a test parsing arguments of its own).
    static func ownArguments() -> [String] {
        let all = Array(CommandLine.arguments.dropFirst())
        guard let at = all.firstIndex(of: configuration.commandName!) else { return [] }
        return Array(all[(at + 1)...])
    }
}

/// The subscription of one `netobs tail` run.
struct TailPlan {
    /// Records stamped before --until may still be on their way this long after it.
    static let inFlightNs: UInt64 = 5_000_000_000

    var subscribe: Subscribe
    /// The whole selection, applied again to what the controller sends (it may apply less).
    var filter: RecordFilter
    /// Exit at the replay's end (--no-follow, or --until in the past).
    var endsAfterReplay: Bool
    /// Follow until the clock passes this (0: no end).
    var untilNs: UInt64
}
