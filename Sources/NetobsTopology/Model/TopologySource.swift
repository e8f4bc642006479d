/// Something that keeps a `TopologyStore` up to date until stopped.
public protocol TopologySource: AnyObject, Sendable {
    /// Starts following the source. Throws when the configuration is unusable.
    func start() throws
    func stop()
}
