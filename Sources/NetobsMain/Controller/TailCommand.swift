import ArgumentParser
import NetobsAgentLink
import NetobsTLS
import NetobsWire
#if canImport(Glibc)
import Glibc
#endif

/// `netobs tail`: prints the controller's record stream.
struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print the controller's record stream (consumer role).",
        discussion: "Reconnects and re-subscribes on its own; records arriving while disconnected are not replayed.")

    @Option(help: ArgumentHelp("The controller.", valueName: "host:port"))
    var controller: String

    @OptionGroup var tls: TLSFiles

    @Option(help: "Only records of this kind (tcp, udp, http, dns, loss, ...).")
    var kind: String = ""

    @Flag(help: "Print records as JSON lines exactly as received.")
    var json = false

    func validate() throws {
        guard ControllerEndpoint.parse(controller) != nil else { throw ValidationError("--controller must be HOST:PORT") }
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
        let json = self.json
        let stream = ConsumerStream(
            endpoint: ControllerEndpoint(host: host, port: port, tls: context),
            filter: Subscribe(kind: kind),
            log: { line in Output.write("netobs tail: \(line)\n", to: 2) },
            onBatch: { batch in
                if batch.dropped > 0 { Output.write("netobs tail: \(batch.dropped) records dropped (reading too slowly)\n", to: 2) }
                var text = ""
                for record in batch.records {
                    let line = String(decoding: record, as: UTF8.self)
                    text += json ? line : TailFormat.summary(line)
                    text += "\n"
                }
                if !Output.write(text, to: 1) { Glibc.exit(0) }
            })
        stream.start()
        while true { try await Task.sleep(for: .seconds(3600)) }
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

/// A short human line per record: kind, node, endpoints, then the rest as given.
/// TODO: a proper table once records are joined with pods; JSON is the faithful form (--json).
enum TailFormat {
    static func summary(_ json: String) -> String {
        func field(_ name: String) -> String? {
            guard let r = json.firstRange(of: "\"\(name)\":") else { return nil }
            var value = json[r.upperBound...]
            if value.hasPrefix("\"") {
                value = value.dropFirst()
                return String(value.prefix { $0 != "\"" })
            }
            return String(value.prefix { $0 != "," && $0 != "}" })
        }
        let kind = field("kind") ?? "?"
        let src = "\(field("src_ip") ?? "?"):\(field("src_port") ?? "?")"
        let dst = "\(field("dst_ip") ?? "?"):\(field("dst_port") ?? "?")"
        return "\(kind) \(field("node") ?? "-") \(field("comm") ?? "-") \(src) -> \(dst)  \(json)"
    }
}
