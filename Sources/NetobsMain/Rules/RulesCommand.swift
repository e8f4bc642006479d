import ArgumentParser

/// `netobs rules`: what agents collect, set from one place.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Push collection rules to every agent through the controller.",
        subcommands: [RulesPushCommand.self])
}
