import Foundation
import RTTYCore

/// One line of audit.jsonl read as the daemon's own readers read it: by a JSON decoder.
func auditRecord(_ line: some StringProtocol) -> AuditLine? {
    try? JSONDecoder().decode(AuditLine.self, from: Data(line.utf8))
}

/// Every record of an audit log's text, each field as text (numbers as written), for
/// checking fields a record type does not list (grant's subject, a detail).
func auditFields(_ text: String) -> [[String: String]] {
    text.split(separator: "\n").compactMap { line in
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
        return object.mapValues { "\($0)" }
    }
}
