import Testing
@testable import NetobsRecords

@Suite struct JSONLineWriterTests {
    @Test func writesFieldsInOrderWithEscapes() {
        var r = Record(kind: "tcp")
        r.set("comm", .string("a\"b\\c\n\u{01}"))
        r.set("pid", .uint(42))
        r.set("delta", .int(-3))
        r.set("ok", .bool(true))
        r.set("reasons", .array([.string("X"), .string("Y")]))
        #expect(JSONLineWriter.line(r)
            == #"{"kind":"tcp","comm":"a\"b\\c\n\u0001","pid":42,"delta":-3,"ok":true,"reasons":["X","Y"]}"#)
    }

    @Test func setReplacesAnExistingField() {
        var r = Record(kind: "udp")
        r.set("x", .uint(1))
        r.set("x", .uint(2))
        #expect(r.fields.count == 2)
        #expect(r["x"] == .uint(2))
    }
}

@Suite struct RecordFieldOrderTests {
    @Test func aFieldAddedAfterAnotherTakesItsPlace() {
        var r = Record(kind: "tcp")
        r.set("cgroup_id", .uint(7))
        r.set("src_ip", .string("10.0.0.1"))
        r.set("pod_uid", .string("u"), after: "cgroup_id")
        #expect(r.fields.map(\.0) == ["kind", "cgroup_id", "pod_uid", "src_ip"])
        r.set("pod_uid", .string("v"), after: "cgroup_id")
        #expect(r.fields.map(\.0) == ["kind", "cgroup_id", "pod_uid", "src_ip"] && r["pod_uid"] == .string("v"))
        r.set("x", .bool(true), after: "missing")
        #expect(r.fields.last?.0 == "x")
    }
}

@Suite struct IPAddressTests {
    @Test func ipv4() {
        #expect(IPAddress.format([10, 244, 1, 2] + Array(repeating: 0, count: 12), ipVersion: 4) == ("10.244.1.2", 4))
    }

    @Test func ipv4MappedIPv6IsShownAsIPv4() {
        let mapped: [UInt8] = Array(repeating: 0, count: 10) + [0xff, 0xff, 127, 0, 0, 1]
        #expect(IPAddress.format(mapped, ipVersion: 6) == ("127.0.0.1", 4))
    }

    @Test(arguments: [
        ([UInt8](repeating: 0, count: 15) + [1], "::1"),
        ([0xfd, 0, 0, 0x10, 0x02, 0x44, 0, 1] + [UInt8](repeating: 0, count: 7) + [2], "fd00:10:244:1::2"),
        ([UInt8](repeating: 0, count: 16), "::"),
        ([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1], "2001:db8:0:1:0:1:0:1"),
    ])
    func ipv6(bytes: [UInt8], text: String) {
        #expect(IPAddress.format(bytes, ipVersion: 6) == (text, 6))
    }
}
