/// The scenario as a list of actions in time order: start and stop of each fault. At equal
/// times stops come first, so a fault may begin on a pod the instant the previous one ends.
public struct FaultTimeline: Sendable {
    public enum Action: Sendable, Equatable {
        case start(Int)   // index into the scenario's faults
        case stop(Int)
    }

    public struct Event: Sendable, Equatable {
        public let atNs: Int64
        public let action: Action
    }

    public let events: [Event]

    public init(_ scenario: Scenario) {
        var events: [Event] = []
        for (i, fault) in scenario.faults.enumerated() {
            events.append(Event(atNs: fault.atNs, action: .start(i)))
            events.append(Event(atNs: fault.endNs, action: .stop(i)))
        }
        self.events = events.enumerated().sorted { a, b in
            if a.element.atNs != b.element.atNs { return a.element.atNs < b.element.atNs }
            let aStops = if case .stop = a.element.action { true } else { false }
            let bStops = if case .stop = b.element.action { true } else { false }
            if aStops != bStops { return aStops }
            return a.offset < b.offset
        }.map(\.element)
    }
}
