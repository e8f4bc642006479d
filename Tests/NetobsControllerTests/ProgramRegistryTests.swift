import Testing
@testable import NetobsController
import NetobsTLS
import NetobsWire
import NetobsWireNIO

/// The registry on disk: one active bundle per object, and the single `active` pointer of older
/// controllers read as the active l4.
@Suite("program registry")
struct ProgramRegistryTests {
    let key: SigningKey
    init() throws { key = try SigningKey.generate() }

    func bundle(_ name: String, _ version: String) throws -> ProgramBundle {
        try BundleSignature.sign(object: [0x7f, 0x45, 0x4c, 0x46] + Array(version.utf8), name: name, version: version, key: key)
    }

    func summary(_ r: ProgramRegistry) -> [String] { r.actives.map { "#\($0.n) \($0.bundle.name) \($0.bundle.version)" } }

    @Test("one active bundle per object, sorted by name, kept across a reopen")
    func oneActivePerObject() throws {
        let data = temporaryDirectory("data")
        let r = try ProgramRegistry(directory: data)
        #expect(r.actives.isEmpty && r.active(named: "l4") == nil)
        let l7 = try bundle("l7", "7.1"), l4 = try bundle("l4", "1.0"), l4b = try bundle("l4", "1.1")
        try r.activate(try r.store(l7), l7)
        try r.activate(try r.store(l4), l4)
        #expect(summary(r) == ["#2 l4 1.0", "#1 l7 7.1"])
        let n = try r.store(l4b)
        #expect(summary(r) == ["#2 l4 1.0", "#1 l7 7.1"])   // stored is not active
        try r.activate(n, l4b)
        #expect(summary(r) == ["#3 l4 1.1", "#1 l7 7.1"])
        #expect(r.active(named: "l7")?.bundle == l7)

        let reopened = try ProgramRegistry(directory: data)
        #expect(summary(reopened) == ["#3 l4 1.1", "#1 l7 7.1"])
        #expect(reopened.migration == nil)
        #expect(try DurableFile.list(data + "/programs").sorted() == ["1.bundle", "2.bundle", "3.bundle", "active-l4", "active-l7"])
        #expect(try reopened.store(l4) == 4)
    }

    @Test("a bundle naming no known object is never made active")
    func unknownObjectNotActivated() throws {
        let r = try ProgramRegistry(directory: temporaryDirectory("data"))
        let odd = try bundle("../l9", "1")
        #expect(throws: ProgramRegistry.UnknownObject.self) { try r.activate(try r.store(odd), odd) }
        #expect(r.actives.isEmpty)
    }

    @Test("an older controller's `active` becomes active-l4 when the registry opens, and is removed")
    func legacyActiveMigrates() throws {
        let data = temporaryDirectory("data")
        let dir = data + "/programs"
        do {
            let r = try ProgramRegistry(directory: data)
            _ = try r.store(try bundle("l4", "0.9"))
            _ = try r.store(try bundle("l4", "1.0"))
        }
        try DurableFile.replace(dir + "/active", with: Array("2\n".utf8))   // as an older controller leaves it

        let r = try ProgramRegistry(directory: data)
        #expect(summary(r) == ["#2 l4 1.0"])
        #expect(r.migration?.contains("is now active-l4") == true)
        #expect(!DurableFile.exists(dir + "/active"))
        #expect(try DurableFile.read(dir + "/active-l4") == Array("2\n".utf8))
        #expect(summary(try ProgramRegistry(directory: data)) == ["#2 l4 1.0"])
        #expect(try ProgramRegistry(directory: data).migration == nil)

        // An older controller run again since then wrote `active`: it is the newer pointer.
        try DurableFile.replace(dir + "/active", with: Array("1\n".utf8))
        let again = try ProgramRegistry(directory: data)
        #expect(summary(again) == ["#1 l4 0.9"])
        #expect(!DurableFile.exists(dir + "/active"))
    }

    @Test("an active l7 stays when an old `active` is migrated as l4")
    func legacyMigrationLeavesOtherObjects() throws {
        let data = temporaryDirectory("data")
        do {
            let r = try ProgramRegistry(directory: data)
            let l7 = try bundle("l7", "7.1")
            try r.activate(try r.store(l7), l7)
            _ = try r.store(try bundle("l4", "1.0"))
        }
        try DurableFile.replace(data + "/programs/active", with: Array("2\n".utf8))
        #expect(summary(try ProgramRegistry(directory: data)) == ["#2 l4 1.0", "#1 l7 7.1"])
    }
}
