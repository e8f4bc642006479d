import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Just enough ELF64 to tell whether an executable carries its own TLS: OpenSSL linked in
/// statically (a defined SSL_write) or Go's crypto/tls (in its symbols or, stripped, in the
/// function table .gopclntab). Reads the file mapped, once per file.
enum ELFSymbols {
    static func staticTLS(path: String) -> String? {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else { return nil }
        return data.withUnsafeBytes { raw -> String? in
            guard raw.count > 64, raw[0] == 0x7f, raw[1] == 0x45, raw[2] == 0x4c, raw[3] == 0x46, raw[4] == 2 else {
                return nil // not ELF64
            }
            func u16(_ o: Int) -> Int { o + 2 <= raw.count ? Int(raw.loadUnaligned(fromByteOffset: o, as: UInt16.self)) : 0 }
            func u32(_ o: Int) -> Int { o + 4 <= raw.count ? Int(raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)) : 0 }
            func u64(_ o: Int) -> Int { o + 8 <= raw.count ? Int(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self)) : 0 }
            let shoff = u64(0x28), shentsize = u16(0x3a), shnum = u16(0x3c), shstrndx = u16(0x3e)
            guard shoff > 0, shentsize >= 64, shnum > 0, shoff + shnum * shentsize <= raw.count else { return nil }
            struct Section { var name: Int; var type: Int; var offset: Int; var size: Int; var link: Int; var entsize: Int }
            let sections = (0..<shnum).map { i -> Section in
                let h = shoff + i * shentsize
                return Section(name: u32(h), type: u32(h + 4), offset: u64(h + 0x18), size: u64(h + 0x20),
                               link: u32(h + 0x28), entsize: u64(h + 0x38))
            }
            func bytes(_ s: Section) -> UnsafeRawBufferPointer? {
                guard s.offset >= 0, s.size >= 0, s.offset + s.size <= raw.count else { return nil }
                return UnsafeRawBufferPointer(rebasing: raw[s.offset..<(s.offset + s.size)])
            }
            func string(_ table: UnsafeRawBufferPointer, _ at: Int) -> Substring.UTF8View? {
                guard at < table.count else { return nil }
                let end = table[at...].firstIndex(of: 0) ?? table.count
                return Substring(decoding: table[at..<end], as: UTF8.self).utf8
            }
            guard shstrndx < sections.count, let names = bytes(sections[shstrndx]) else { return nil }
            func name(_ s: Section) -> String { string(names, s.name).map { String(Substring($0)) } ?? "" }
            // Symbol tables (SHT_SYMTAB 2, SHT_DYNSYM 11): a defined SSL_write or a crypto/tls function.
            // A huge symbol table (a toolchain binary) is not read: 4 MiB is ~170k symbols.
            for table in sections where (table.type == 2 || table.type == 11) && table.entsize >= 24 && table.size <= 4 << 20 {
                guard table.link < sections.count, let strings = bytes(sections[table.link]), let symbols = bytes(table) else { continue }
                for i in 0..<(symbols.count / table.entsize) {
                    let e = i * table.entsize
                    let shndx = Int(symbols.loadUnaligned(fromByteOffset: e + 6, as: UInt16.self))
                    guard shndx != 0, let sym = string(strings, Int(symbols.loadUnaligned(fromByteOffset: e, as: UInt32.self))) else { continue }
                    if sym.elementsEqual("SSL_write".utf8) { return "openssl-static" }
                    if sym.starts(with: "crypto/tls.".utf8) { return "go-crypto-tls" }
                }
            }
            if let pcln = sections.first(where: { name($0) == ".gopclntab" }), let table = bytes(pcln),
               contains(table, Array("crypto/tls.(*Conn).Write".utf8)) {
                return "go-crypto-tls"
            }
            return nil
        }
    }

    private static func contains(_ hay: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard let base = hay.baseAddress, let first = needle.first, hay.count >= needle.count else { return false }
        return needle.withUnsafeBytes { n -> Bool in
            var at = 0
            let last = hay.count - needle.count
            while at <= last, let hit = memchr(base + at, Int32(first), last - at + 1) {
                let i = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + i, n.baseAddress!, needle.count) == 0 { return true }
                at = i + 1
            }
            return false
        }
    }
}
