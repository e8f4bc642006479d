import Foundation
import NetobsRecords
import Yams

/// A rules file as `netobs-agent --rules` reads it (JSON), or the same keys written as YAML.
enum RulesFile {
    static func load(_ path: String) throws -> CollectionRules {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure("rules file \(path): cannot be read")
        }
        do {
            if (try? JSONSerialization.jsonObject(with: data)) != nil { return try CollectionRules.parse(data) }
            guard let text = String(data: data, encoding: .utf8) else { throw CollectionRules.Invalid("neither JSON nor UTF-8 YAML") }
            let object: Any?
            do {
                object = try Yams.load(yaml: text)
            } catch {
                throw CollectionRules.Invalid("neither JSON nor YAML: \(error)")
            }
            guard let object, JSONSerialization.isValidJSONObject(object) else {
                throw CollectionRules.Invalid("the top level must be a mapping of rule keys")
            }
            return try CollectionRules.parse(try JSONSerialization.data(withJSONObject: object))
        } catch let invalid as CollectionRules.Invalid {
            throw CommandFailure("rules file \(path): \(invalid.message)")
        }
    }
}
