/// The pod UID in a kubelet cgroup path, for the `pod_uid` record field: the controller joins
/// host-network pods (which share their node's address) by it.
///
/// cgroupfs driver: `/kubepods/burstable/pod<uid>/<container>`;
/// systemd driver: `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid with _>.slice/cri-containerd-<id>.scope`.
public enum PodUID {
    public static func fromCgroupPath(_ path: String) -> String? {
        guard path.contains("kubepods") else { return nil }
        for component in path.split(separator: "/").reversed() {
            var name = Substring(component)
            if name.hasSuffix(".slice") {
                name = name.dropLast(".slice".count)
                guard let start = name.indices.last(where: { name[$0...].hasPrefix("-pod") }) else { continue }
                name = name[start...].dropFirst(4)
                let uid = String(name).replacingUnderscores()
                if isUID(uid) { return uid }
            } else if name.hasPrefix("pod") {
                let uid = String(name.dropFirst(3))
                if isUID(uid) { return uid }
            }
        }
        return nil
    }

    /// 8-4-4-4-12 lowercase hex digits (what the API server hands out).
    static func isUID(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.map(\.count) == [8, 4, 4, 4, 12]
            && parts.allSatisfy { $0.allSatisfy { $0.isHexDigit && !$0.isUppercase } }
    }
}

private extension String {
    func replacingUnderscores() -> String { String(map { $0 == "_" ? "-" : $0 }) }
}
