import Foundation
import StrataStore

/// Renders query results as aligned text or CSV.
enum Tables {
    /// Columns padded to their widest cell, numbers right-aligned, under a rule.
    static func aligned(_ result: QueryResult) -> String {
        guard !result.rows.isEmpty else { return "" }
        let widths = result.columns.indices.map { column in
            max(result.columns[column].count, result.rows.map { $0[column].count }.max() ?? 0)
        }
        let numeric = result.columns.indices.map { column in
            result.rows.allSatisfy { isNumeric($0[column]) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                return numeric[index] ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        var lines = [line(result.columns), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        lines += result.rows.map(line)
        return lines.joined(separator: "\n")
    }

    /// RFC 4180 CSV: fields with commas, quotes or newlines are quoted, quotes doubled.
    static func csv(_ result: QueryResult) -> String {
        func field(_ text: String) -> String {
            text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        return ([result.columns] + result.rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\n")
    }

    private static func isNumeric(_ text: String) -> Bool {
        guard let first = text.first else { return true }
        return first.isNumber || first == "-" || first == "+" || first == "."
    }
}

extension String {
    /// The string without the spaces at its end (linear, unlike a `\s+$` regex on a long run).
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
