import Foundation
import Testing
@testable import NetobsRecords

@Suite struct NativeJSONTests {
    @Test func readsEveryKindOfValue() throws {
        let o = try NativeJSON.object(Array(#"""
            { "s": "a\"b\u00e9", "n": 42, "neg": -7, "big": 18446744073709551615, "f": 1.5e3,
              "t": true, "no": false, "nil": null, "list": ["x", 1, [2]], "obj": {"k": "v"}, "empty": [] }
            """#.utf8))
        #expect(o["s"] as? String == "a\"b\u{E9}")
        #expect(o["n"] as? Int == 42)
        #expect(o["neg"] as? Int == -7)
        #expect(o["big"] as? UInt64 == UInt64.max)
        #expect(o["f"] as? Double == 1500)
        #expect(o["t"] as? Bool == true && o["no"] as? Bool == false)
        #expect(o["nil"] is NativeJSON.Null)
        let list = try #require(o["list"] as? [Any])
        #expect(list.count == 3 && list[0] as? String == "x" && (list[2] as? [Any])?.first as? Int == 2)
        #expect((o["obj"] as? [String: Any])?["k"] as? String == "v")
        #expect((o["empty"] as? [Any])?.isEmpty == true)
    }

    @Test func refusesWhatIsNotOneObject() {
        for text in ["", "{", #"{"a":}"#, #"{"a":1,}"#, #"{"a":1} x"#, #"{"a":tru}"#, #"{"a":1.2.3}"#, "[1,2"] {
            #expect(throws: NativeJSON.Failure.malformed, "\(text)") { try NativeJSON.object(Array(text.utf8)) }
        }
        #expect(throws: NativeJSON.Failure.notAnObject) { try NativeJSON.object(Array("[1]".utf8)) }
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: NativeJSON.Failure.malformed) { try NativeJSON.object(Array(#"{"a":\#(deep)}"#.utf8)) }
    }

    @Test func agreesWithJSONSerializationOnWrittenRecords() throws {
        var r = Record(kind: "http")
        r.set("ts_ns", .uint(1_795_923_742_618_428_374))
        r.set("http_request_uri", .string("/caf\u{E9}?q=\"1\"\t"))
        r.set("http_status_code", .uint(503))
        r.set("delta", .int(-3))
        r.set("tcp_drop_reasons", .array([.string("NETFILTER_DROP"), .string("NO_SOCKET")]))
        r.set("tcp_connect_failed", .bool(true))
        let bytes = JSONLineWriter.bytes(r)
        let native = try NativeJSON.object(bytes)
        let foundation = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(Set(native.keys) == Set(foundation.keys))
        #expect(native["ts_ns"] as? Int == (foundation["ts_ns"] as? NSNumber)?.intValue)
        #expect(native["http_request_uri"] as? String == foundation["http_request_uri"] as? String)
        #expect(native["delta"] as? Int == -3)
        #expect(native["tcp_drop_reasons"] as? [String] == foundation["tcp_drop_reasons"] as? [String])
        #expect(native["tcp_connect_failed"] as? Bool == true)
    }
}
