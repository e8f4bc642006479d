import Foundation
import Testing
import NetobsTLS
import NetobsTestSupport

extension PKI {
    /// ca.pem, operator.pem and operator-key.pem, as `netobs certs init` names them, for running
    /// the `netobs` binary as an operator against a test controller.
    func operatorCertsDirectory() throws -> String {
        let dir = temporaryDirectory("certs")
        let pair: Pair = try CertificateFactory.issue(CertificateRequest(commonName: "ops", usage: .client, role: .operator),
                                                      by: ca)
        try Data(ca.certificate.pem).write(to: URL(fileURLWithPath: dir + "/ca.pem"))
        try Data(pair.certificate.pem).write(to: URL(fileURLWithPath: dir + "/operator.pem"))
        try Data(pair.key.pkcs8PEM).write(to: URL(fileURLWithPath: dir + "/operator-key.pem"))
        return dir
    }
}

/// Runs `netobs agents ARGUMENTS` to its end and returns its stdout (it must exit 0).
func runAgentsCommand(_ arguments: [String]) async throws -> String {
    let run = try CapturedProcess(ControllerProcess.binary, ["agents"] + arguments)
    #expect(await eventually { !run.process.isRunning })
    run.stop()
    #expect(run.process.terminationStatus == 0, "stderr: \(run.stderrText)")
    return run.stdoutText
}
