/// How log lines look on stderr: `text` for people (`netobs-agent: info: message key=value`),
/// `json` for log pipelines (one object per line: ts, level, logger, msg, metadata).
public enum LogFormat: String, CaseIterable, Sendable {
    case text, json
}
