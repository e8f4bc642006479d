import Foundation
import NodeLab
import Testing

/// A paced TCP transfer between two lab pods, long enough to span agent reloads; at the end,
/// the agent must have counted one connection with every byte on both ends.
struct PacedTransfer {
    let client: Pod, server: Pod
    let port: Int, bytes: Int
    private let serverProcess: LabProcess, clientProcess: LabProcess

    init(from client: Pod, to server: Pod, chunks: Int, chunkSize: Int = 40_000) throws {
        (self.client, self.server, port, bytes) = (client, server, freshPort(), chunks * chunkSize)
        serverProcess = try server.spawn(Peers.tcpServer(ip: server.ipv4, port: port, expect: bytes, reply: 1))
        try serverProcess.waitForOutput("ready")
        clientProcess = try client.spawn(Peers.tcpPacedClient(ip: server.ipv4, port: port, chunks: chunks,
                                                              chunkSize: chunkSize, pause: 0.025))
    }

    var isRunning: Bool { clientProcess.isRunning }

    func finishAndCheck(_ agent: AgentRun) throws {
        try finish()
        Thread.sleep(forTimeInterval: 0.3)
        check(try agent.stop())
    }

    func finish() throws {
        try clientProcess.waitUntilExit(timeout: .seconds(30))
        try serverProcess.waitUntilExit(timeout: .seconds(10))
    }

    /// Whether `records` hold the whole transfer on the client side (for records that arrive late).
    func complete(_ records: [FlowRecord]) -> Bool {
        records.toward(kind: "tcp", netns: client.netnsInode, port: port).sum("tcp_tx_bytes") >= UInt64(bytes)
    }

    func check(_ records: [FlowRecord]) {
        let clientSide = records.toward(kind: "tcp", netns: client.netnsInode, port: port)
        let serverSide = records.local(kind: "tcp", netns: server.netnsInode, port: port)
        #expect(clientSide.sum("tcp_tx_bytes") == UInt64(bytes))
        #expect(serverSide.sum("tcp_rx_bytes") == UInt64(bytes))
        #expect(clientSide.transitions.filter { $0 == "CLOSE>SYN_SENT" }.count == 1)
        #expect(clientSide.transitions.filter { $0.hasSuffix(">CLOSE") }.count == 1)
    }
}
