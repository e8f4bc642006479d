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
            Filters combine with AND; each is applied by the controller, so only matching records \
            cross the network. Follows until interrupted; reconnects and re-subscribes on its own \
            (records arriving while disconnected are not replayed). Table output is coloured when \
            stdout is a terminal and NO_COLOR is unset.

            --last N first shows the N most recent matching records the controller still holds \
            (it keeps its last `--replay-records`, 10000 by default), oldest first, then follows \
            with no gap and no repeat between the two; with --no-follow it exits after them.
            """)

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Option(help: ArgumentHelp("The controller.", valueName: "host:port"))
    var controller: String

    @OptionGroup var tls: TLSFiles

    @Option(help: "Records whose source or destination is in this namespace.")
    var namespace: String = ""

    @Option(help: ArgumentHelp("Records whose source or destination is this pod (NAME or NAMESPACE/NAME).", valueName: "pod"))
    var pod: String = ""

    @Option(help: ArgumentHelp("Records to this service (NAME or NAMESPACE/NAME).", valueName: "service"))
    var service: String = ""

    @Option(help: "Records of this kind (tcp, udp, http, dns, loss, anomaly, ...).")
    var kind: String = ""

    @Option(name: .customLong("protocol"), help: "Records of this protocol: tcp (http included), udp (dns included), http, dns.")
    var proto: String = ""

    @Option(help: "HTTP status (503) or class (5xx), or DNS response code (NXDOMAIN).")
    var status: String = ""

    @Flag(help: "Anomaly records only.")
    var anomalies = false

    @Option(name: [.short, .customLong("output")], help: "table: one aligned line per record; json: records exactly as received.")
    var output: OutputFormat = .table

    @Flag(help: "Same as --output json (as `netobs agents --json`).")
    var json = false

    @Option(help: ArgumentHelp("First show the N most recent matching records the controller holds.", valueName: "n"))
    var last: UInt32 = 0

    @Flag(help: "Exit after the records of --last instead of following.")
    var noFollow = false

    func validate() throws {
        guard ControllerEndpoint.parse(controller) != nil else { throw ValidationError("--controller must be HOST:PORT") }
        let known = ["", "tcp", "udp", "http", "dns"]
        guard known.contains(proto) else { throw ValidationError("--protocol must be one of tcp, udp, http, dns") }
        guard !noFollow || last > 0 else { throw ValidationError("--no-follow needs --last N (N > 0)") }
    }

    var filter: Subscribe {
        Subscribe(namespace: namespace, pod: pod, service: service, kind: kind, protocol: proto, status: status,
                  anomaliesOnly: anomalies, replayLast: last)
    }

    func run() async throws {
        let (host, port) = ControllerEndpoint.parse(controller)!
        let context: TLSContext
        do {
            context = try tls.clientContext(role: "consumer")
        } catch let error as TLSError {
            throw CommandFailure(error.message)
        }
        signal(SIGPIPE, SIG_IGN)
        let printer = TailPrinter(format: json ? .json : output,
                                  colour: isatty(1) == 1 && getenv("NO_COLOR").map { $0.pointee == 0 } ?? true)
        if let header = printer.header { Output.write(header + "\n", to: 1) }
        let noFollow = noFollow
        let stream = ConsumerStream(
            endpoint: ControllerEndpoint(host: host, port: port, tls: context),
            filter: filter,
            log: { line in Output.write("netobs tail: \(line)\n", to: 2) },
            onReplayRefused: {
                guard noFollow else { return }
                Output.write("netobs tail: the controller cannot show recent records (--last); nothing to print\n", to: 2)
                Glibc.exit(1)
            },
            onBatch: { batch in
                if batch.dropped > 0 { Output.write("netobs tail: \(batch.dropped) records dropped (reading too slowly)\n", to: 2) }
                if !Output.write(printer.text(batch.records), to: 1) { Glibc.exit(0) }
                if noFollow && batch.replayEnd { Glibc.exit(0) }
            })
        stream.start()
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}

/// Turns received records into output lines (pure, so tests can check it).
struct TailPrinter: Sendable {
    let format: TailCommand.OutputFormat
    let table: RecordTable

    init(format: TailCommand.OutputFormat, colour: Bool) {
        self.format = format
        table = RecordTable(colour: colour)
    }

    var header: String? { format == .table ? table.header : nil }

    func text(_ records: [[UInt8]]) -> String {
        var text = ""
        for record in records {
            switch format {
            case .json:
                text += String(decoding: record, as: UTF8.self)
            case .table:
                if let view = RecordView(json: record) {
                    text += table.line(view)
                } else {
                    text += table.unparsed(String(decoding: record, as: UTF8.self))
                }
            }
            text += "\n"
        }
        return text
    }
}

/// Whole-string writes to a descriptor.
enum Output {
    @discardableResult
    static func write(_ text: String, to fd: Int32) -> Bool {
        var text = text
        return text.withUTF8 { buf in
            var offset = 0
            while offset < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + offset, buf.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
    }
}
