import ArgumentParser
import NetobsTLS
import NetobsWire

/// `netobs programs push BUNDLE`: hands a signed bundle to the controller for a canary rollout.
struct ProgramsPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Roll a signed program bundle out to every agent, canaries first (operator role).",
        discussion: """
            The bundle's signed name is the kernel object it replaces (l4 or l7); the controller keeps \
            one active bundle per object and refuses other names. It verifies the bundle against its \
            --operator-key, stores it (DATA/programs/), sends it to --canary percent of the connected \
            agents, and to all others once every canary has loaded it. If an agent refuses it (bad \
            signature, or the kernel verifier says no), the rollout stops, agents that had moved go back \
            to the previous bundle of the same object (the other objects are left alone), and this \
            command prints the agent's verifier log and fails. Agents keep their running programs on any \
            refusal. One rollout runs at a time.
            """)

    @Argument(help: ArgumentHelp("Bundle file (`netobs programs sign`).", valueName: "bundle"))
    var bundle: String

    @Option(help: "Percent of the agents that get the bundle first (default: the controller's --canary-percent).")
    var canary: Int?

    @OptionGroup var connection: OperatorConnection

    func validate() throws {
        if let canary, !(1...100).contains(canary) { throw ValidationError("--canary must be 1...100") }
    }

    func run() async throws {
        var pushed: ProgramBundle
        do {
            pushed = try BundleSignature.decode(try BundleSignature.readFile(bundle, what: "program bundle"))
        } catch let error as BundleRejection {
            throw CommandFailure("\(bundle): \(error)")
        } catch let error as TLSError {
            throw CommandFailure(error.message)
        }
        pushed.canaryPercent = canary.map { UInt8($0) }
        // The signed name is the object it replaces: say which before the (possibly long) rollout.
        print("object \(pushed.name): pushing \(pushed.version) to \(connection.controller)")
        // The rollout answers when it is over: give it time beyond the connection's own timeout.
        let answer = try await connection.request(.programBundle(pushed), timeoutSeconds: max(connection.timeout, 120))
        guard case .programStatus(let status) = answer else {
            throw CommandFailure("controller \(connection.controller) answered the bundle with something else")
        }
        guard status.state == .loaded else {
            if !status.verifierLog.isEmpty { print("verifier log:\n\(status.verifierLog)") }
            throw CommandFailure("rollout of \(status.name) \(status.version) stopped: \(status.error ?? "\(status.state)")")
        }
        print("\(status.name) \(status.version) rolled out to every connected agent; it is the active \(status.name)")
    }
}
