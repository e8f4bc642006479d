/// Names of every lab resource. Each encodes the creating process id so that a later run can
/// tell a crashed run's leftovers (owner dead) from a live lab in another process.
///
/// `nlab<pid base36>-<lab index, 2 base36 digits>` is the lab id (at most 12 chars, since
/// pid_max is at most 4194304 = "2ihsw"); interface names must fit in 15 chars:
/// - bridge:    `<lab>br`                      (≤ 14)
/// - host veth: `<lab>v<pod index, 2 digits>`  (≤ 15)
/// - netns:     `<lab>-<pod index>-<pod name>`
/// - cgroup:    `<cgroup2>/netobs-nodelab/<lab>/kubepods/pod<uid>/<container id>`
/// - subnet lease: `/run/netobs-nodelab/subnets/<N>` -> symlink to `<lab>`
/// Fixed-width indices keep names unambiguous (base36 digits include 'b' and 'v').
public enum LabNaming {
    public static let prefix = "nlab"
    /// Directory under the cgroup2 mount holding every lab's cgroups.
    public static let cgroupDirectory = "netobs-nodelab"
    /// Directory holding subnet leases (tmpfs: gone after reboot, like the netns and links).
    public static let runDirectory = "/run/netobs-nodelab"
    /// Labs (and pods per lab) per process that get distinct names.
    static let indexLimit = 36 * 36

    public static func labID(ownerPID: Int32, index: Int) -> String {
        prefix + String(ownerPID, radix: 36) + "-" + fixed(index % indexLimit)
    }

    public static func bridgeName(labID: String) -> String { labID + "br" }
    public static func hostVethName(labID: String, podIndex: Int) -> String { labID + "v" + fixed(podIndex) }
    public static func netnsName(labID: String, podIndex: Int, podName: String) -> String {
        labID + "-" + fixed(podIndex) + "-" + podName
    }

    /// The creator's pid for any lab resource name (netns, link, cgroup dir, lease target),
    /// or nil if the name is not one of ours. Strict, so that an operator's unrelated
    /// "nlab..." interface is never mistaken for a leftover.
    public static func ownerPID(of name: String) -> Int32? {
        guard name.hasPrefix(prefix) else { return nil }
        let parts = name.dropFirst(prefix.count).split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, (1...5).contains(parts[0].count), parts[0].allSatisfy(isDigit36),
              parts[1].count >= 2, parts[1].allSatisfy(isDigit36) else { return nil }
        let role = parts[1].dropFirst(2)
        switch parts.count {
        case 2:   // lab id / cgroup dir, bridge, host veth
            guard role.isEmpty || role == "br" || (role.count == 3 && role.first == "v" && role.allSatisfy(isDigit36)) else {
                return nil
            }
        default:  // netns: <lab>-<pod index>-<pod name>
            let pod = parts[2]
            guard role.isEmpty, pod.count > 3, pod.prefix(2).allSatisfy(isDigit36),
                  pod.dropFirst(2).first == "-" else { return nil }
        }
        return Int32(parts[0], radix: 36)
    }

    private static func isDigit36(_ c: Character) -> Bool {
        ("0"..."9").contains(c) || ("a"..."z").contains(c)
    }

    private static func fixed(_ index: Int) -> String {
        let digits = String(index, radix: 36)
        return digits.count >= 2 ? digits : "0" + digits
    }
}
