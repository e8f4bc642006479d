/// Where a kubelet puts its pod cgroups, so that the agent reads those subtrees and only
/// searches the rest of the cgroup hierarchy for them: the kubelet's root is `kubepods`
/// (cgroupfs driver) or `kubepods.slice` (systemd driver), directly under the cgroup v2 root on
/// a plain node and deeper when the kubelet runs with `--cgroup-root` or inside a container
/// (`kubelet.slice/kubelet-kubepods.slice`, kind's `system.slice/docker-<id>.scope/...`), or in
/// the node lab (`netobs-nodelab/<lab>/kubepods`).
public enum KubeletCgroups {
    /// What the walk does with one directory found at `depth` (1: a child of the v2 root).
    public enum Step: Sendable, Equatable {
        /// A kubelet's root: every cgroup below it is read (pods, containers).
        case podRoot
        /// Not (yet) in a kubelet's tree: look among its children.
        case search
        /// Too deep to hold a kubelet's root: left alone.
        case skip
    }

    /// How deep below the v2 root a kubelet's root is looked for.
    public static let searchDepth = 6

    public static func step(name: String, depth: Int) -> Step {
        if name == "kubepods" || name.hasSuffix("kubepods.slice") { return .podRoot }
        return depth < searchDepth ? .search : .skip
    }
}
