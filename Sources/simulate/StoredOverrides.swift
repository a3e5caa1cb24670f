import Foundation
import StrataGraph

/// A stored run's `--set` values, read back from the `overrides` column (a JSON object
/// with sorted keys, as `RunRecords.canonicalJSON` writes it).
struct StoredOverrides {
    /// (name, value) pairs, sorted by name.
    var pairs: [(name: String, value: String)]

    /// Reads the column; text that is not a JSON object of strings reads as no overrides
    /// (only `simulate run` writes the column, so that would be a hand-edited database).
    init(json: String) {
        let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
        pairs = object.keys.sorted().map { key in (key, (object[key] as? String) ?? "\(object[key]!)") }
    }

    /// `dp=2 tp=4`, or empty.
    var display: String { pairs.map { "\($0.name)=\($0.value)" }.joined(separator: " ") }

    /// `{"dp":"2"}` with keys sorted.
    var json: JSONValue { .object(pairs.map { ($0.name, .string($0.value)) }) }

    /// As `--set` arguments for re-simulating the run.
    var overrides: [Override] { pairs.map { Override(name: $0.name, text: $0.value) } }
}
