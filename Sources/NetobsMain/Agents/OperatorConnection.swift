import ArgumentParser
import NIOCore
import NetobsAgentLink
import NetobsTLS
import NetobsWire

/// How operator commands reach the controller: address, operator certificate, patience.
struct OperatorConnection: ParsableArguments {
    @Option(help: ArgumentHelp("The controller.", valueName: "host:port"))
    var controller: String = "127.0.0.1:7443"

    @OptionGroup var tls: TLSFiles

    @Option(help: "Name the controller's certificate must carry (default: the --controller host).")
    var controllerName: String?

    @Option(help: "Seconds to wait for the controller's answer.")
    var timeout: Int = 30

    func validate() throws {
        guard ControllerEndpoint.parse(controller) != nil else { throw ValidationError("--controller must be HOST:PORT") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    /// Sends one request as operator; an Error answer becomes a CommandFailure with its code and text.
    func request(_ message: Message, timeoutSeconds: Int? = nil) async throws -> Message {
        let (host, port) = ControllerEndpoint.parse(controller)!
        let context: TLSContext
        do {
            context = try tls.clientContext(role: "operator")
        } catch let error as TLSError {
            throw CommandFailure(error.message)
        }
        let answer: Message
        do {
            answer = try await OperatorRequest.send(
                message, to: ControllerEndpoint(host: host, port: port, tls: context, serverName: controllerName),
                timeout: .seconds(Int64(timeoutSeconds ?? timeout)))
        } catch {
            throw CommandFailure("controller \(controller): \(error)")
        }
        if case .error(let e) = answer { throw CommandFailure("controller refused: \(e.message) (error \(e.code))") }
        return answer
    }

    func agents() async throws -> AgentList {
        guard case .agentList(let list) = try await request(.agentListRequest(AgentListRequest())) else {
            throw CommandFailure("controller \(controller) answered the agent list request with something else")
        }
        return list
    }
}
