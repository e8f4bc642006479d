import NetobsRecords

/// Work asked of the collection loop from another thread (the controller link). It is done on
/// the loop's thread between two flushes, through the same paths as `--rules` and SIGHUP;
/// `done` gets nil or the error (a kernel error carries the verifier log).
public enum LoopRequest: Sendable {
    /// Apply rules through the filter maps (no program reload). `origin` names them in the log.
    case applyRules(CollectionRules, origin: String, done: @Sendable ((any Error)?) -> Void)
    /// Hot-swap one kernel object's programs to this (already verified) ELF object.
    case swapPrograms(KernelObject, [UInt8], origin: String, done: @Sendable ((any Error)?) -> Void)
}
