import Foundation
import Testing
@testable import NetobsRecords

@Suite struct JSONLineBytesTests {
    @Test func extremesAndNonASCIIReadBackAsWritten() throws {
        var r = Record(kind: "http")
        r.set("zero", .uint(0))
        r.set("max", .uint(UInt64.max))
        r.set("min", .int(Int64.min))
        r.set("uri", .string("/caf\u{E9}/\u{1F600}?q=\"x\"&t=\t\u{1F}\u{7F}"))
        let bytes = JSONLineWriter.bytes(r)
        #expect(String(decoding: bytes, as: UTF8.self) == JSONLineWriter.line(r))
        #expect(String(decoding: bytes, as: UTF8.self)
            == #"{"kind":"http","zero":0,"max":18446744073709551615,"min":-9223372036854775808,"uri":"/café/😀?q=\"x\"&t=\t\u001f"# + "\u{7F}\"}")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(parsed["uri"] as? String == "/caf\u{E9}/\u{1F600}?q=\"x\"&t=\t\u{1F}\u{7F}")
    }
}
