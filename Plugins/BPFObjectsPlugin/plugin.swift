import Foundation
import PackagePlugin

/// Compiles every `bpf/*.bpf.c` into a BPF object and embeds it as a generated Swift
/// source in the target, so `swift build` alone produces an agent that carries its programs.
@main
struct BPFObjectsPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let bpfDir = root.appending(path: "bpf")
        let script = root.appending(path: "scripts/build-bpf.sh")
        let files = try FileManager.default.contentsOfDirectory(atPath: bpfDir.path)
            .sorted()
            .map { bpfDir.appending(path: $0) }
        // Headers anywhere under bpf/ (the L4 programs keep theirs in bpf/l4/): an edit rebuilds.
        let headers = (FileManager.default.enumerator(atPath: bpfDir.path)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".h") }
            .sorted()
            .map { bpfDir.appending(path: $0) }
        let work = context.pluginWorkDirectoryURL
        return files.filter { $0.lastPathComponent.hasSuffix(".bpf.c") }.map { source in
            let name = source.lastPathComponent.replacingOccurrences(of: ".bpf.c", with: "")
            let output = work.appending(path: "\(name).bpf.swift")
            return .buildCommand(
                displayName: "Compiling BPF program \(source.lastPathComponent)",
                executable: URL(fileURLWithPath: "/bin/bash"),
                arguments: [script.path, source.path, output.path, work.path],
                inputFiles: [source, script] + headers,
                outputFiles: [output])
        }
    }
}
