import Testing
@testable import NetobsDemo
