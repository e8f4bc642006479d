import Foundation

/// Files of the repository the demo ships with (scenarios, the application): looked up from
/// the current directory, then upwards from the binary (.build/<config>/netobs).
enum RepositoryFiles {
    static func find(_ relative: String, what: String) throws -> String {
        var candidates = [FileManager.default.currentDirectoryPath]
        var dir = URL(fileURLWithPath: CommandLine.executablePath).deletingLastPathComponent()
        while dir.path != "/" {
            candidates.append(dir.path)
            dir = dir.deletingLastPathComponent()
        }
        for base in candidates where FileManager.default.fileExists(atPath: base + "/" + relative) {
            return base + "/" + relative
        }
        throw CommandFailure("cannot find \(relative), \(what)")
    }
}
