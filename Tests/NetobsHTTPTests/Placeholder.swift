import Testing
@testable import NetobsHTTP
