#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// Hands out subnet numbers N (10.244.N.0/24 and fd00:10:244:N::/64) so that labs, in this
/// process or any other, never overlap: pods of different labs are on different bridges and
/// could share addresses, but an agent watching the whole node could not tell their flows apart.
///
/// A lease is a symlink `/run/netobs-nodelab/subnets/<N>` -> `<lab id>`; symlink(2) fails
/// with EEXIST if the number is taken, which makes claiming atomic across processes, and the
/// target names the owner so stale leases of dead processes can be reclaimed.
enum SubnetLeases {
    static let directory = LabNaming.runDirectory + "/subnets"
    static let range = 1...254

    static func acquire(for labID: String) throws -> Int {
        try CgroupV2.create(directory)
        for n in range where symlink(labID, path(n)) == 0 {
            return n
        }
        throw NodeLabError.exhausted("lab subnets: all of 10.244.\(range.lowerBound)-\(range.upperBound).0/24 are leased (see \(directory))")
    }

    static func release(_ n: Int, labID: String) {
        if owner(of: n) == labID { unlink(path(n)) }
    }

    /// Lease number -> lab id, for every lease on the machine.
    static func all() -> [Int: String] {
        var leases: [Int: String] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            if let n = Int(name), let labID = owner(of: n) { leases[n] = labID }
        }
        return leases
    }

    static func owner(of n: Int) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: path(n))
    }

    static func remove(_ n: Int) {
        unlink(path(n))
    }

    private static func path(_ n: Int) -> String { "\(directory)/\(n)" }
}
