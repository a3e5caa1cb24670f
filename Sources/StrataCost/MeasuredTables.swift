import Foundation
import StrataCore

/// The measured kernel tables of one GPU (`traces/<gpu>/*.csv`, written by
/// scripts/profile/): each file starts with `# key: value` lines naming the GPU, driver,
/// CUDA, PyTorch, date and command, then a CSV header and rows.
public struct MeasuredTables: Sendable {
    /// One table: its header facts and its rows as column → value.
    public struct Table: Sendable {
        public var facts: [String: String]
        public var columns: [String]
        public var rows: [[String: String]]

        /// The numeric value of `column` in `row`, if it parses.
        public func number(_ row: [String: String], _ column: String) -> Double? { row[column].flatMap(Double.init) }
    }

    /// The folder the tables came from.
    public var folder: String
    public var tables: [String: Table]
    /// Custom kernels' tables (`kernels/<name>/*.csv` under `folder`), by name.
    public var kernels: [String: MeasuredTables] = [:]

    /// Loads every `*.csv` in `folder`, and every kernel folder under `folder/kernels/`.
    ///
    /// - Throws: `DiagnosticError` for an unreadable file or a row whose field count does
    ///   not match its header, with the line.
    public init(folder: String) throws(DiagnosticError) {
        try self.init(folder: folder, loadsKernels: true)
    }

    /// Tables already loaded, such as a subset of another folder's rows.
    init(folder: String, tables: [String: Table]) {
        self.folder = folder
        self.tables = tables
    }

    /// The stock grouped-GEMM table's own kernels (`torch._grouped_mm`,
    /// `torch._scaled_grouped_mm`: every `impl` but the per-expert `loop`), each as the
    /// tables of a kernel a strategy can name with `kernel = "torch._grouped_mm"`.
    public var stockGroupedKernels: [String: MeasuredTables] {
        guard let table = tables["grouped_gemm"], table.columns.contains("impl") else { return [:] }
        let names = Set(table.rows.compactMap { $0["impl"] }).subtracting(["loop"])
        return Dictionary(uniqueKeysWithValues: names.sorted().map { name in
            var rows = table
            rows.rows = table.rows.filter { $0["impl"] == name }
            return (name, MeasuredTables(folder: folder, tables: ["grouped_gemm": rows]))
        })
    }

    init(folder: String, loadsKernels: Bool) throws(DiagnosticError) {
        self.folder = folder
        tables = [:]
        if loadsKernels {
            let kernelsFolder = (folder as NSString).appendingPathComponent("kernels")
            for name in Self.subfolders(of: kernelsFolder) {
                kernels[name] = try MeasuredTables(folder: (kernelsFolder as NSString).appendingPathComponent(name), loadsKernels: false)
            }
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".csv") }.sorted()
        } catch {
            throw DiagnosticError(Diagnostic(file: folder, "cannot list the measured tables: \(error.localizedDescription)",
                                             help: "point --traces at a folder holding a traces/<gpu>/ subfolder of CSV tables"))
        }
        for name in names {
            let path = (folder as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw DiagnosticError(Diagnostic(file: path, "cannot read the table as UTF-8 text", help: "check the file"))
            }
            let table = try Self.parse(text, path: path)
            try Self.check(table, named: String(name.dropLast(4)), path: path, text: text,
                           gpuID: loadsKernels ? (folder as NSString).lastPathComponent : nil)
            tables[String(name.dropLast(4))] = table
        }
    }

    /// Columns the cost model reads from each table, all numeric except the listed text ones;
    /// a held-out table (`gemm_held_out`) needs its grid's (`requiredColumns(of:)`).
    static let requiredColumns: [String: [String]] = [
        "gemm": ["m", "n", "k", "dtype", "median_us"],
        "attention": ["pass", "batch", "seq", "heads", "head_dim", "impl", "median_us"],
        "elementwise": ["op", "pass", "bytes", "median_us"],
        "collectives": ["op", "gpus", "group", "bytes", "median_us"],
        "launch": ["metric", "median_us"],
    ]
    /// The columns `requiredColumns` names for table `name`, or for its grid where `name` is
    /// a held-out table's; none for a table the model reads nothing of by name.
    static func requiredColumns(of name: String) -> [String] {
        let grid = name.hasSuffix(heldOutSuffix) ? String(name.dropLast(heldOutSuffix.count)) : name
        return requiredColumns[grid] ?? []
    }

    /// What a held-out table's name adds to its grid's: `gemm_held_out.csv` beside `gemm.csv`.
    static let heldOutSuffix = "_held_out"
    static let textColumns: Set<String> = ["metric", "dtype", "pass", "impl", "op", "group", "distribution", "kernel", "gqa"]

    /// Rejects a table the cost model would misread: a missing column, a cell that should be
    /// a number and is not, or a header naming a GPU other than the folder's.
    static func check(_ table: Table, named name: String, path: String, text: String, gpuID: String?) throws(DiagnosticError) {
        let headerLine = (text.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? 0) + 1
        let required = requiredColumns(of: name)
        for column in required where !table.columns.contains(column) {
            throw DiagnosticError(Diagnostic(at: SourceLocation(file: path, line: headerLine, column: 1),
                                             "the \(name) table lacks the column '\(column)'",
                                             help: "its header needs \(required.joined(separator: ", ")); re-run scripts/profile/run.py"))
        }
        for (index, row) in table.rows.enumerated() {
            for column in required where !textColumns.contains(column) {
                guard let cell = row[column], Double(cell) != nil else {
                    throw DiagnosticError(Diagnostic(at: SourceLocation(file: path, line: headerLine + 1 + index, column: 1),
                                                     "'\(row[column] ?? "")' in column '\(column)' is not a number",
                                                     help: "write a number there, or remove the row"))
                }
            }
        }
        // The folder is named after the GPU (h100-sxm); its tables must come from that GPU.
        if let gpuID, let gpu = table.facts["gpu"], let model = gpuID.split(separator: "-").first,
           !gpu.lowercased().contains(model.lowercased()) {
            throw DiagnosticError(Diagnostic(file: path, "the table was measured on '\(gpu)', not on a \(gpuID)",
                                             help: "move it to the folder of the GPU it was measured on, such as traces/<gpu>/"))
        }
    }

    static func parse(_ text: String, path: String) throws(DiagnosticError) -> Table {
        var facts: [String: String] = [:]
        var columns: [String]?
        var rows: [[String: String]] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(line).trimmingWhitespace()
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
                if let colon = body.firstIndex(of: ":") {
                    facts[String(body[..<colon])] = String(body[body.index(after: colon)...]).trimmingWhitespace()
                }
                continue
            }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
            guard let header = columns else {
                columns = fields
                continue
            }
            guard fields.count == header.count else {
                throw DiagnosticError(Diagnostic(at: SourceLocation(file: path, line: number + 1, column: 1),
                                                 "this row has \(fields.count) fields but the header has \(header.count)",
                                                 help: "fix the row or re-run scripts/profile/run.py"))
            }
            rows.append(Dictionary(uniqueKeysWithValues: zip(header, fields)))
        }
        return Table(facts: facts, columns: columns ?? [], rows: rows)
    }

    /// The subfolders of `folder`, sorted; none when it does not exist.
    static func subfolders(of folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { name in
            var isDirectory: ObjCBool = false
            let path = (folder as NSString).appendingPathComponent(name)
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
        }.sorted()
    }

    /// Whether `folder` holds any `*.csv` table.
    public static func holdsTables(_ folder: String) -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).contains { $0.hasSuffix(".csv") }
    }

    /// The GPU ids that have a folder of tables under `traces` (subfolders holding CSVs), sorted.
    public static func gpuIDs(under traces: String) -> [String] {
        subfolders(of: traces).filter { holdsTables((traces as NSString).appendingPathComponent($0)) }
    }

    /// The folder of measured tables for `gpuID` under `traces`, if it holds any table. A
    /// GPU folder with no CSV of its own (only `runs/` kept for later, say) is no table
    /// set: that GPU is priced like one without a folder (transferred or roofline), not as
    /// "measured" from nothing.
    public static func folder(for gpuID: String, under traces: String) -> String? {
        let folder = (traces as NSString).appendingPathComponent(gpuID)
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue
            && holdsTables(folder) ? folder : nil
    }
}
