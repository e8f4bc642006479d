import Foundation
import NodeLab

/// Puts faults in place and takes them away, on the running cluster:
/// - loss:      iptables `statistic` DROP of `percent`% of the packets in and out of the pod's eth0;
/// - delay:     the service sleeps `ms` before answering every request (its control file);
/// - reset:     iptables REJECT --reject-with tcp-reset of `percent`% of the segments to the pod's
///              serving port (refused connects, torn-down connections);
/// - dns:       kube-dns answers NXDOMAIN for the pod's service name (dnsmasq's hosts file without it);
/// - kill:      the pod's process is killed (SIGKILL) and started again when the fault ends;
/// - cpu:       a CFS quota of `percent`% of one CPU on the pod's processes (`CPUCap`);
/// - partition: iptables DROP of everything between the pod and its peer, both ways;
/// - bandwidth: a token bucket filter capping what the pod sends (`TokenBucket`).
/// `stop` returns what the fault measurably did (packets dropped or reset by the rules, connection
/// attempts a killed pod refused, CPU throttling, the queue's drops).
final class FaultInjector {
    let cluster: DemoCluster
    private var caps: [String: CPUCap] = [:]
    private var killedAt: [String: Date] = [:]

    init(cluster: DemoCluster) { self.cluster = cluster }

    func start(_ fault: Fault) throws {
        let pod = cluster.pod(fault.pod, namespace: fault.namespace)
        switch fault.kind {
        case .loss(let percent):
            try IptablesRules.loss(percent: percent).forEach { try pod.iptables($0.insert) }
        case .reset(let percent):
            try IptablesRules.reset(port: component(fault).port, percent: percent).forEach { try pod.iptables($0.insert) }
        case .delay(let ms):
            try cluster.setDelay(ms, service: fault.pod)
        case .dns:
            try cluster.hideNames(cluster.hiddenNames.union([component(fault).fqdn]))
        case .kill:
            try IptablesRules.countConnects(port: component(fault).port).forEach { try pod.iptables($0.insert) }
            try cluster.kill(fault.pod)
            killedAt[key(fault)] = Date()
        case .cpu(let percent):
            caps[key(fault)] = try CPUCap.apply(percent: percent, to: pod)
        case .partition(let peer, let namespace):
            let other = cluster.pod(peer, namespace: namespace)
            try IptablesRules.partition(peer: other.ipv4).forEach { try pod.iptables($0.insert) }
        case .bandwidth(let kbit):
            try pod.tc(TokenBucket.add(kbit: kbit))
        }
    }

    /// Removes the fault; returns its measured effect.
    func stop(_ fault: Fault) throws -> [String: Double] {
        let pod = cluster.pod(fault.pod, namespace: fault.namespace)
        switch fault.kind {
        case .loss(let percent):
            let rules = IptablesRules.loss(percent: percent)
            let dropped = try counted(rules, in: pod)
            try rules.forEach { try pod.iptables($0.delete) }
            return ["dropped_packets_in": Double(dropped[0]), "dropped_packets_out": Double(dropped[1])]
        case .reset(let percent):
            let rules = IptablesRules.reset(port: component(fault).port, percent: percent)
            let resets = try counted(rules, in: pod)
            try rules.forEach { try pod.iptables($0.delete) }
            return ["reset_packets": Double(resets[0])]
        case .delay:
            try cluster.setDelay(0, service: fault.pod)
            return [:]
        case .dns:
            try cluster.hideNames(cluster.hiddenNames.subtracting([component(fault).fqdn]))
            return [:]
        case .kill:
            let down = killedAt.removeValue(forKey: key(fault)).map { Date().timeIntervalSince($0) * 1000 } ?? 0
            let restartMs = try cluster.restart(fault.pod)
            let rules = IptablesRules.countConnects(port: component(fault).port)
            let refused = try counted(rules, in: pod)
            try rules.forEach { try pod.iptables($0.delete) }
            return ["down_ms": down.rounded(), "restart_ms": restartMs.rounded(), "connection_attempts": Double(refused[0])]
        case .cpu:
            guard let cap = caps.removeValue(forKey: key(fault)) else { return [:] }
            let stats = cap.stats()
            try cap.remove()
            return ["periods": stats.periods, "throttled_periods": stats.throttled, "throttled_ms": stats.throttledMs.rounded()]
        case .partition(let peer, let namespace):
            let rules = IptablesRules.partition(peer: cluster.pod(peer, namespace: namespace).ipv4)
            let dropped = try counted(rules, in: pod)
            try rules.forEach { try pod.iptables($0.delete) }
            return ["dropped_packets_in": Double(dropped[0]), "dropped_packets_out": Double(dropped[1])]
        case .bandwidth:
            let stats = TokenBucket.stats(try pod.tc(TokenBucket.show))
            try pod.tc(TokenBucket.delete)
            return stats
        }
    }

    /// Packets each rule matched so far (per rule, in order).
    private func counted(_ rules: [IptablesRules.Rule], in pod: Pod) throws -> [UInt64] {
        try rules.map { rule in
            IptablesRules.packets(inListing: try pod.iptables(["-L", rule.chain, "-v", "-x", "-n"]))
        }
    }

    private func component(_ fault: Fault) -> SockShop.Component {
        SockShop.component(fault.pod, namespace: fault.namespace)!
    }

    private func key(_ fault: Fault) -> String { fault.namespace + "/" + fault.pod }
}
