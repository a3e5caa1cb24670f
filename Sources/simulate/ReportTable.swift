import StrataStore

/// A report's rows with every cell twice: as people read it (`38.810 ms`, `1,688,640`)
/// for the aligned table, and as programs read it (seconds, tokens per second) for CSV
/// and JSON, whose columns carry snake_case keys.
struct ReportTable {
    struct Column {
        /// The CSV header and JSON key.
        var key: String
        /// The aligned table's header.
        var title: String
    }

    struct Cell {
        var display: String
        var value: JSONValue

        init(_ display: String, _ value: JSONValue) {
            self.display = display
            self.value = value
        }

        static func text(_ text: String) -> Cell { Cell(text, .string(text)) }
    }

    var columns: [Column]
    var rows: [[Cell]]

    /// A read-only SQL result as a report: the statement's column names for keys and
    /// titles, numbers kept numbers.
    init(_ result: QueryResult) {
        columns = result.columns.map { Column(key: $0, title: $0) }
        rows = zip(result.rows, result.values).map { texts, values in
            zip(texts, values).map { text, value in
                switch value {
                case .null: Cell(text, .null)
                case let .integer(number): Cell(text, .integer(number))
                case let .real(number): Cell(text, .number(number))
                case let .text(string): Cell(text, .string(string))
                }
            }
        }
    }

    init(columns: [Column], rows: [[Cell]]) {
        self.columns = columns
        self.rows = rows
    }

    /// Columns padded and aligned under a rule (`Tables.aligned`); empty when there are no rows.
    var aligned: String {
        Tables.aligned(QueryResult(columns: columns.map(\.title), rows: rows.map { $0.map(\.display) }))
    }

    /// RFC 4180 CSV with the keys as header and raw values.
    var csv: String {
        Tables.csv(QueryResult(columns: columns.map(\.key), rows: rows.map { $0.map(\.value.csvText) }))
    }

    /// One JSON object per row, keys in column order.
    var jsonRows: JSONValue {
        .array(rows.map { row in .object(zip(columns, row).map { ($0.key, $1.value) }) })
    }
}
