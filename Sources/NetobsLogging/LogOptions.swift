import ArgumentParser
import Logging

/// `--log-level` and `--log-format`, the same on every long-running command.
public struct LogOptions: ParsableArguments, Sendable {
    @Option(help: ArgumentHelp("Least severe messages logged.", valueName: "level"))
    public var logLevel: Logger.Level = .info

    @Option(help: ArgumentHelp("Log lines as text (for people) or json (one object per line, for log pipelines).",
                               valueName: "text|json"))
    public var logFormat: LogFormat = .text

    public init() {}

    /// Installs the handler; call before the first message.
    public func bootstrap() { LoggingSetup.bootstrap(level: logLevel, format: logFormat) }
}

extension LogFormat: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}
