import Foundation
import NodeLab

/// A run's records.jsonl replaced by a compressed copy: zstd where installed (about 40 times
/// smaller: a 158 MB run is 4-5 MB), else gzip. `netobs detect`/`eval` read either.
public enum RecordCompression {
    /// Compresses `path` next to itself and removes it; returns the new file's name.
    public static func compress(_ path: String) throws -> String {
        let (argv, suffix): ([String], String) = Shell.which("zstd") != nil
            ? (["zstd", "-q", "-12", "--long=27", "--rm", "-f", path, "-o", path + ".zst"], ".zst")
            : (["gzip", "-9", "-f", path], ".gz")
        let run = try Shell.run(argv, timeout: .seconds(900))
        guard run.status == 0, FileManager.default.fileExists(atPath: path + suffix) else {
            throw DemoError("\(Shell.render(argv)) failed (status \(run.status)): \(run.stderr)")
        }
        return URL(fileURLWithPath: path + suffix).lastPathComponent
    }
}
