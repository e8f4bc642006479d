import Foundation
import PackagePlugin

/// Writes the build's version (`git describe` of the checkout, "unknown" outside a git
/// checkout) as a Swift source, so `--version` names the exact code a binary was built from.
/// Reruns when the checkout's HEAD moves (a commit, a checkout).
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let script = root.appending(path: "scripts/build-info.sh")
        let output = context.pluginWorkDirectoryURL.appending(path: "BuildInfo.swift")
        let headLog = root.appending(path: ".git/logs/HEAD")
        let inputs = [script] + (FileManager.default.fileExists(atPath: headLog.path) ? [headLog] : [])
        return [.buildCommand(displayName: "Writing the build's version",
                              executable: URL(fileURLWithPath: "/bin/bash"),
                              arguments: [script.path, root.path, output.path],
                              inputFiles: inputs, outputFiles: [output])]
    }
}
