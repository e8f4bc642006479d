import Synchronization
import NetobsTopology

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let value = Atomic<UInt64>(1_000_000_000)
    var now: @Sendable () -> UInt64 { { [self] in value.load(ordering: .relaxed) } }
    func advance(seconds: UInt64) { value.add(seconds * 1_000_000_000, ordering: .relaxed) }
}

/// Waits (polling) until `condition` holds; false after `seconds`. Tests assert the result,
/// never the time it took.
func eventually(_ seconds: Double = 20, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}
