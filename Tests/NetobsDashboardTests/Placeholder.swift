import Testing
@testable import NetobsDashboard
