import ArgumentParser
import Foundation
import StrataCore
import StrataDSL

/// `simulate fmt`: print a strategy file in canonical form, check it, or rewrite it.
struct FmtCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fmt",
        abstract: "Print a strategy file in canonical form, comments kept.",
        discussion: """
            The canonical form has one item per line, 4-space indentation, single spaces \
            around '=' and operators, only the parentheses an expression needs, and at most \
            one blank line in a row. Comments stay where they were written; a comment inside \
            a value moves to its own line before the setting. A block of at most three \
            settings and no comments is printed on one line when that line fits in 100 \
            columns. Formatting never changes what the file means.

            Prints the canonical text on standard output unless --check or --in-place is \
            given. Exits 0 on success; with --check, 1 when the file is not canonical; 2 \
            when the file cannot be read or has syntax errors (each one is printed).
            """
    )

    @Argument(help: ArgumentHelp("The strategy file (.strata).", valueName: "file"))
    var file: String

    @Flag(help: "Print nothing; exit 1 if the file is not in canonical form, 0 if it is.")
    var check = false

    @Flag(help: "Rewrite the file in canonical form (only when that changes it).")
    var inPlace = false

    func validate() throws {
        if check, inPlace {
            throw ValidationError("--check and --in-place cannot be combined; use --check to test a file, --in-place to rewrite it")
        }
    }

    func run() throws {
        let text = try Pipeline.readText(file, what: "strategy file")
        let canonical = Formatter.format(try Parser.parse(text, path: file))
        if check {
            // Exit directly: a thrown ExitCode would make the root command print an empty
            // message, and --check prints nothing.
            if canonical != text { Foundation.exit(1) }
        } else if inPlace {
            if canonical != text { try Self.replace(file, with: canonical) }
        } else {
            print(canonical, terminator: "")
        }
    }

    /// Writes `text` to a temporary file beside `path` and renames it over `path`, so a
    /// reader never sees half a file; the file keeps its permissions.
    static func replace(_ path: String, with text: String) throws(DiagnosticError) {
        let manager = FileManager.default
        let permissions = (try? manager.attributesOfItem(atPath: path))?[.posixPermissions]
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            if let permissions { try manager.setAttributes([.posixPermissions: permissions], ofItemAtPath: path) }
        } catch {
            throw DiagnosticError(Diagnostic(file: path, "cannot rewrite the strategy file: \(error.localizedDescription)",
                                             help: "check that the file and its folder are writable"))
        }
    }
}
