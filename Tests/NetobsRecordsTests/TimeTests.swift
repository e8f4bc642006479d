import Testing
@testable import NetobsRecords

@Suite("--since/--until and --time-format")
struct TimeTests {
    static let now: UInt64 = 1_746_104_645_123_456_789  // 2025-05-01T13:04:05.123456789Z

    @Test func rfc3339() throws {
        #expect(TimeBound.rfc3339("2025-05-01T13:04:05Z") == 1_746_104_645_000_000_000)
        #expect(TimeBound.rfc3339("2025-05-01T13:04:05.123456789Z") == Self.now)
        #expect(TimeBound.rfc3339("2025-05-01t13:04:05.5z") == 1_746_104_645_500_000_000)
        #expect(TimeBound.rfc3339("2025-05-01 15:04:05+02:00") == 1_746_104_645_000_000_000)
        #expect(TimeBound.rfc3339("2025-05-01T08:34:05-04:30") == 1_746_104_645_000_000_000)
        #expect(TimeBound.rfc3339("2024-02-29T00:00:00Z") == 1_709_164_800_000_000_000)
        #expect(TimeBound.rfc3339("1970-01-01T00:00:00.000000001Z") == 1)
        for bad in ["2025-05-01", "2025-05-01T13:04:05", "2025-02-29T00:00:00Z", "2025-13-01T00:00:00Z", "2025-05-01T24:00:00Z",
                    "2025-05-01T13:04:05.Z", "2025-05-01T13:04:05Zjunk", "1969-12-31T23:59:59Z", "yesterday"] {
            #expect(TimeBound.rfc3339(bad) == nil, "\(bad)")
        }
    }

    @Test func durationsBeforeNow() throws {
        #expect(try TimeBound.parse("5m", nowNs: Self.now) == Self.now - 300_000_000_000)
        #expect(try TimeBound.parse("1h30m", nowNs: Self.now) == Self.now - 5_400_000_000_000)
        #expect(try TimeBound.parse("1.5s", nowNs: Self.now) == Self.now - 1_500_000_000)
        #expect(try TimeBound.parse("250ms", nowNs: Self.now) == Self.now - 250_000_000)
        #expect(try TimeBound.parse("2d", nowNs: Self.now) == Self.now - 172_800_000_000_000)
        #expect(try TimeBound.parse("2025-05-01T13:04:05Z", nowNs: 0) == 1_746_104_645_000_000_000)
        #expect(TimeBound.duration("5") == nil && TimeBound.duration("m") == nil && TimeBound.duration("5x") == nil)
        #expect(throws: TimeBound.Invalid.self) { try TimeBound.parse("soon", nowNs: Self.now) }
        #expect(throws: TimeBound.Invalid.self) { try TimeBound.parse("100000d", nowNs: Self.now) }
    }

    @Test func formats() {
        #expect(TimeFormat.time.format(Self.now, nowNs: 0) == "13:04:05.123")
        #expect(TimeFormat.rfc3339.format(Self.now, nowNs: 0) == "2025-05-01T13:04:05.123Z")
        #expect(TimeFormat.rfc3339nano.format(Self.now, nowNs: 0) == "2025-05-01T13:04:05.123456789Z")
        #expect(TimeFormat.unix.format(Self.now, nowNs: 0) == "1746104645.123")
        #expect(TimeFormat.unixnano.format(Self.now, nowNs: 0) == "1746104645123456789")
        #expect(TimeFormat.relative.format(Self.now - 4_200_000_000, nowNs: Self.now) == "4.2s ago")
        #expect(TimeFormat.relative.format(Self.now - 192_000_000_000, nowNs: Self.now) == "3m12s ago")
        #expect(TimeFormat.relative.format(Self.now, nowNs: Self.now - 5) == "0ms ago", "a clock behind the record")
        #expect(TimeFormat.age(7_500_000_000_000) == "2h05m" && TimeFormat.age(273_600_000_000_000) == "3d04h")
        for f in TimeFormat.allCases where f != .relative {
            #expect(f.format(Self.now, nowNs: 0).count == f.width, "\(f)")
            #expect(f.format(0, nowNs: 0) == "-")
        }
        // RFC 3339 out and in agree, over leap years and centuries.
        for days in stride(from: 0, to: 200_000, by: 997) {
            let ns = UInt64(days) * 86_400_000_000_000 + 45_296_789_000_000
            #expect(TimeBound.rfc3339(TimeFormat.rfc3339nano.format(ns, nowNs: 0)) == ns)
        }
    }

    @Test func tableTimeColumn() throws {
        let v = try #require(RecordView(json: Array(#"{"kind":"udp","ts_ns":\#(Self.now)}"#.utf8)))
        let table = RecordTable(colour: false, timeFormat: .rfc3339, now: { Self.now })
        #expect(table.header.hasPrefix("TIME" + String(repeating: " ", count: 21) + "KIND"))
        #expect(table.line(v).hasPrefix("2025-05-01T13:04:05.123Z udp "))
        let relative = RecordTable(colour: false, timeFormat: .relative, now: { Self.now + 61_000_000_000 })
        #expect(relative.line(v).hasPrefix("1m01s ago   udp "))
    }
}
