import ArgumentParser

/// `netobs programs`: the operator's signing key and signed program bundles.
struct ProgramsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "programs",
        abstract: "Sign BPF objects into program bundles that agents verify before loading.",
        discussion: """
            Agents load only program bundles signed with the operator's Ed25519 key: make it once \
            with `keygen` (keep operator-key.pem off the cluster; give agents operator-key.pub.pem), \
            then `sign` each BPF object under the name of the kernel object it replaces (l4 or l7: \
            agents swap each on its own). A bundle file is the ProgramBundle message of the wire \
            protocol, so the controller can forward it as is. An agent started with \
            --operator-key PUB.pem --program-bundle FILE loads FILE at SIGHUP after checking its \
            digest and signature. `push` hands a bundle to the controller, which rolls it out to \
            all agents (canaries first), one active bundle per object.
            """,
        subcommands: [ProgramsKeygenCommand.self, ProgramsSignCommand.self, ProgramsVerifyCommand.self,
                      ProgramsPushCommand.self])
}
