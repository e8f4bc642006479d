@testable import NetobsRecords
import Testing

/// RFC 7541 Appendix C: the examples, byte for byte, with the dynamic table after each block.
struct HPACKDecoderTests {
    static func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.filter { !$0.isWhitespace })
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    }

    typealias H = HPACKDecoder.Header

    @Test func integersC1() throws {
        let d = HPACKDecoder()
        var i = 0
        #expect(try d.integer([0x0a], &i, prefix: 5) == 10)
        i = 0
        #expect(try d.integer([0x1f, 0x9a, 0x0a], &i, prefix: 5) == 1337)
        #expect(i == 3)
        i = 0
        #expect(try d.integer([0x2a], &i, prefix: 8) == 42)
    }

    @Test func literalsC2() throws {
        var d = HPACKDecoder()
        #expect(try d.decode(Self.bytes("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"))
            == [H("custom-key", "custom-header")])
        #expect(d.dynamicSize == 55)
        var d2 = HPACKDecoder()
        #expect(try d2.decode(Self.bytes("040c 2f73 616d 706c 652f 7061 7468")) == [H(":path", "/sample/path")])
        #expect(d2.dynamicEntries.isEmpty)
        var d3 = HPACKDecoder()
        #expect(try d3.decode(Self.bytes("1008 7061 7373 776f 7264 0673 6563 7265 74")) == [H("password", "secret")])
        #expect(d3.dynamicEntries.isEmpty)
        var d4 = HPACKDecoder()
        #expect(try d4.decode([0x82]) == [H(":method", "GET")])
    }

    static let requests: [H] = [H(":method", "GET"), H(":scheme", "http"), H(":path", "/"), H(":authority", "www.example.com")]

    private func checkRequests(_ blocks: [String]) throws {
        var d = HPACKDecoder()
        #expect(try d.decode(Self.bytes(blocks[0])) == Self.requests)
        #expect(d.dynamicEntries == [H(":authority", "www.example.com")] && d.dynamicSize == 57)
        #expect(try d.decode(Self.bytes(blocks[1])) == Self.requests.dropLast(0).map { $0 } + [H("cache-control", "no-cache")])
        #expect(d.dynamicEntries == [H("cache-control", "no-cache"), H(":authority", "www.example.com")] && d.dynamicSize == 110)
        #expect(try d.decode(Self.bytes(blocks[2]))
            == [H(":method", "GET"), H(":scheme", "https"), H(":path", "/index.html"), H(":authority", "www.example.com"),
                H("custom-key", "custom-value")])
        #expect(d.dynamicEntries == [H("custom-key", "custom-value"), H("cache-control", "no-cache"),
                                     H(":authority", "www.example.com")] && d.dynamicSize == 164)
    }

    @Test func requestsWithoutHuffmanC3() throws {
        try checkRequests([
            "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            "8286 84be 5808 6e6f 2d63 6163 6865",
            "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
        ])
    }

    @Test func requestsWithHuffmanC4() throws {
        try checkRequests([
            "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
            "8286 84be 5886 a8eb 1064 9cbf",
            "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
        ])
    }

    private func checkResponses(_ blocks: [String]) throws {
        var d = HPACKDecoder(maxDynamicSize: 256)
        let first = [H(":status", "302"), H("cache-control", "private"), H("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
                     H("location", "https://www.example.com")]
        #expect(try d.decode(Self.bytes(blocks[0])) == first)
        #expect(d.dynamicSize == 222 && d.dynamicEntries.count == 4)
        #expect(try d.decode(Self.bytes(blocks[1])) == [H(":status", "307")] + first.dropFirst())
        #expect(d.dynamicSize == 222 && d.dynamicEntries.first == H(":status", "307"))
        #expect(try d.decode(Self.bytes(blocks[2]))
            == [H(":status", "200"), H("cache-control", "private"), H("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
                H("location", "https://www.example.com"), H("content-encoding", "gzip"),
                H("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")])
        #expect(d.dynamicSize == 215)
        #expect(d.dynamicEntries == [H("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"),
                                     H("content-encoding", "gzip"), H("date", "Mon, 21 Oct 2013 20:13:22 GMT")])
    }

    @Test func responsesWithEvictionC5() throws {
        try checkResponses([
            "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            "4803 3330 37c1 c0bf",
            "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
        ])
    }

    @Test func responsesWithHuffmanAndEvictionC6() throws {
        try checkResponses([
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
            "4883 640e ffc1 c0bf",
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
        ])
    }

    @Test func malformedBlocksThrow() {
        var d = HPACKDecoder()
        #expect(throws: HPACKDecoder.Invalid.self) { try d.decode([0xff, 0xff]) } // index past the tables
        var d2 = HPACKDecoder()
        #expect(throws: HPACKDecoder.Invalid.self) { try d2.decode([0x40, 0x0a, 0x41]) } // string past the block
        #expect(throws: HPACKHuffman.Invalid.self) { try HPACKHuffman.decode([0x00][...]) } // padding not ones
    }
}
