import ArgumentParser
import Foundation
import NetobsAnalysis

/// A recorded run on disk: `records.jsonl` (or a compressed copy: `records.jsonl.zst`, `.gz`,
/// `.xz`) + `labels.jsonl`, `anomalies.jsonl`. `--data` names one run or a folder of runs.
struct RunDirectory {
    let url: URL
    var name: String { url.lastPathComponent }
    /// The records file as found (plain first).
    var records: URL {
        for name in Self.recordFiles where FileManager.default.fileExists(atPath: url.appendingPathComponent(name).path) {
            return url.appendingPathComponent(name)
        }
        return url.appendingPathComponent("records.jsonl")
    }
    static let recordFiles = ["records.jsonl", "records.jsonl.zst", "records.jsonl.gz", "records.jsonl.xz"]
    static func hasRecords(_ dir: URL) -> Bool {
        recordFiles.contains { FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).path) }
    }
    var labels: URL { url.appendingPathComponent("labels.jsonl") }
    var anomalies: URL { url.appendingPathComponent("anomalies.jsonl") }

    static func find(_ path: String) throws -> [RunDirectory] {
        let root = URL(fileURLWithPath: path)
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CommandFailure("--data \(path): no such directory")
        }
        if hasRecords(root) { return [RunDirectory(url: root)] }
        let runs = (try fm.contentsOfDirectory(atPath: root.path)).sorted()
            .map { RunDirectory(url: root.appendingPathComponent($0)) }
            .filter { hasRecords($0.url) }
        guard !runs.isEmpty else { throw CommandFailure("--data \(path): no records.jsonl(.zst/.gz/.xz) in it or in its subfolders") }
        return runs
    }

    /// Lines of a JSONL file, each parsed; bad lines are counted and the first few named on stderr.
    static func readLines<T>(_ url: URL, what: String, parse: (Substring) throws -> T) throws -> [T] {
        guard let data = try contents(url) else {
            throw CommandFailure("\(url.path): cannot read")
        }
        var out: [T] = []
        var bad = 0
        for (n, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            if line.allSatisfy(\.isWhitespace) { continue }
            do {
                out.append(try parse(line))
            } catch {
                bad += 1
                if bad <= 3 { log("\(url.path):\(n + 1): skipped \(what): \(error)") }
            }
        }
        if bad > 0 { log("\(url.path): \(bad) bad \(what) line(s) skipped, \(out.count) read") }
        return out
    }

    /// A file's bytes, decompressed by zstd, gzip or xz when its name says so.
    static func contents(_ url: URL) throws -> Data? {
        let tools = ["zst": ["zstd", "-dc", "--long=27"], "gz": ["gzip", "-dc"], "xz": ["xz", "-dc"]]
        guard let tool = tools[url.pathExtension] else { return FileManager.default.contents(atPath: url.path) }
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = tool + [url.path]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { throw CommandFailure("\(url.path): cannot run \(tool[0]) (\(error))") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw CommandFailure("\(url.path): \(tool[0]) failed: \(message)")
        }
        return data
    }

    func loadRecords() throws -> [FlowRecord] {
        try Self.readLines(records, what: "record") { line throws(FlowRecord.ParseError) in try FlowRecord.parse(line: line) }
    }

    func loadLabels(override: String?) throws -> [FaultLabel] {
        let url = override.map { URL(fileURLWithPath: $0) } ?? labels
        guard FileManager.default.fileExists(atPath: url.path) else { throw CommandFailure("\(url.path): no labels") }
        return try Self.readLines(url, what: "label") { try FaultLabel.parse(line: $0) }
    }

    static func model(_ path: String?) throws -> AnalysisModel {
        guard let path else { return AnalysisModel() }
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure("--model \(path): cannot read") }
        do {
            return try AnalysisModel.load(data)
        } catch {
            throw CommandFailure("--model \(path): not a netobs analysis model (\(error))")
        }
    }

    static func write(_ text: String, to url: URL) throws {
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw CommandFailure("\(url.path): cannot write (\(error.localizedDescription))")
        }
    }

    static func log(_ line: String) { Output.write("netobs: \(line)\n", to: 2) }
}

/// Options shared by the analysis commands.
struct AnalysisDataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A run directory (records.jsonl, labels.jsonl) or a folder of them.", valueName: "dir"))
    var data: String

    @Option(help: ArgumentHelp("A model from `netobs train` (default: built-in thresholds and classifier).", valueName: "file"))
    var model: String?
}

