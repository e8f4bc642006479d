import Testing
@testable import NetobsAnalysis
