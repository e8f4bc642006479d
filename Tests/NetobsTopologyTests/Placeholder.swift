import Testing
@testable import NetobsTopology
