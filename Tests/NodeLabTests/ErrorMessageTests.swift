import Testing
import NodeLab

extension NodeLabTests {
    /// Errors are read in CI logs: they must carry the command, its status and stderr.
    @Suite struct ErrorMessages {
        @Test func commandFailureShowsCommandStatusAndStderr() {
            let error = NodeLabError.commandFailed(argv: ["ip", "link", "add", "x y"], status: 2,
                                                   stdout: "", stderr: "RTNETLINK answers: File exists\n")
            #expect("\(error)" == "command failed (status 2): ip link add 'x y'\nstderr: RTNETLINK answers: File exists")
        }

        @Test func preflightErrorsSayWhatToDo() {
            #expect("\(NodeLabError.notRoot)".contains("run as root"))
            #expect("\(NodeLabError.missingTool("ip", hint: "apt-get install iproute2"))".contains("apt-get install iproute2"))
        }

        @Test func shellFindsSbinToolsEvenWithoutSbinInPath() throws {
            #expect(Shell.which("ip")?.hasSuffix("/ip") == true)
            #expect(Shell.which("definitely-not-a-tool-nodelab") == nil)
            let result = try Shell.run(["sh", "-c", "echo hi; echo oops >&2; exit 4"])
            #expect(result.status == 4 && result.stdout == "hi\n" && result.stderr == "oops\n")
        }
    }
}
