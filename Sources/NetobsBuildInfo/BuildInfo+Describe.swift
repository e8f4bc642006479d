extension BuildInfo {
    /// What `--version` prints.
    public static var describe: String { "netobs \(version)" }
}
