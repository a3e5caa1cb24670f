import Foundation
import StrataCore
import Testing
@testable import StrataDSL

/// The formatter's laws over every strategy the project ships, and the parser's
/// robustness against thousands of seeded random edits of them.
@Suite struct RoundTripTests {
    static let files = Package.strategyFiles()

    @Test func thereAreFilesToCheck() {
        #expect(Self.files.contains("strategies/examples/gpt-125m-dp4.strata"))
        #expect(Self.files.contains("Tests/Fixtures/messy.strata"))
    }

    /// parse → print → parse is the identity (locations aside) and printing is idempotent,
    /// for every file that parses.
    @Test(arguments: files)
    func formattingKeepsTheTreeAndIsIdempotent(path: String) throws {
        let text = try Package.text(path)
        guard let tree = try? Parser.parse(text, path: path) else { return }  // syntax-error fixtures
        let printed = Formatter.format(tree)
        let reparsed = try Parser.parse(printed, path: path)
        #expect(reparsed.withoutLocations == tree.withoutLocations, "\(path): the printed text parses to a different tree:\n\(printed)")
        #expect(Formatter.format(reparsed) == printed, "\(path): formatting twice differs from once")
        #expect(printed.hasSuffix("\n") && !printed.hasSuffix("\n\n"))
    }

    /// Random edits of every shipped file: the parser never crashes or hangs; it either
    /// parses (and then the formatter's laws hold) or reports diagnostics that each point
    /// inside the text and say something.
    @Test(.timeLimit(.minutes(2)), arguments: files)
    func mutatedFilesParseOrFailWithLocatedDiagnostics(path: String) throws {
        let text = try Package.text(path)
        let original = Array(text.unicodeScalars)
        let baseSeed: UInt64 = 0x5354_5241_5441  // "STRATA"
        var outcomes = (parsed: 0, failed: 0)
        for mutation in 0 ..< 1000 {
            let seed = baseSeed &+ UInt64(mutation) &* 0x1_0000 &+ path.stableHash
            var random = SplitMix64(seed: seed)
            var scalars = original
            for _ in 0 ..< Int.random(in: 1 ... 4, using: &random) {
                Self.mutate(&scalars, using: &random)
            }
            var mutated = ""
            mutated.unicodeScalars.append(contentsOf: scalars)
            switch Self.check(mutated, path: path) {
            case .parsed: outcomes.parsed += 1
            case .failed: outcomes.failed += 1
            case let .broken(law):
                Issue.record("\(path), seed \(seed): \(law)\n--- mutated text\n\(mutated)\n---")
                return
            }
        }
        // Both paths were exercised: edits that keep the file valid and edits that break it.
        #expect(outcomes.failed > 0)
        if (try? Parser.parse(text, path: path)) != nil { #expect(outcomes.parsed > 0) }
    }

    enum Outcome {
        case parsed, failed
        case broken(String)
    }

    /// Whether `text` parsed (and the formatter's laws held), failed with good
    /// diagnostics, or broke a law.
    static func check(_ text: String, path: String) -> Outcome {
        do {
            let tree = try Parser.parse(text, path: path)
            let printed = Formatter.format(tree)
            guard let reparsed = try? Parser.parse(printed, path: path) else { return .broken("the printed text does not parse:\n\(printed)") }
            if reparsed.withoutLocations != tree.withoutLocations { return .broken("the printed text parses to a different tree:\n\(printed)") }
            if Formatter.format(reparsed) != printed { return .broken("formatting is not idempotent:\n\(printed)") }
            return .parsed
        } catch {
            // Lines as the lexer counts them: by "\n" scalars. Splitting Characters would
            // miss "\r\n", which Swift reads as one Character.
            let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
            for diagnostic in error.diagnostics {
                guard let location = diagnostic.location, let column = location.column else {
                    return .broken("a diagnostic without a line and column: \(diagnostic)")
                }
                guard location.line >= 1, location.line <= lines.count, column >= 1,
                      column <= lines[location.line - 1].count + 1 else {
                    return .broken("a diagnostic outside the text: \(diagnostic)")
                }
                if diagnostic.message.isEmpty { return .broken("a diagnostic without a message at \(location)") }
            }
            return .failed
        }
    }

    /// Characters that make up the language, and a few that do not.
    static let alphabet = Array("abz_09.{}[]()=,+-*/\"\\ \n\r\t//é$".unicodeScalars)
    /// Whole tokens, so edits also produce plausible but wrong programs.
    static let fragments = ["let ", "import ", "{", "}", "[*]", "[0..3]", "..", "//", " = ", "\"", "\n", "1e999", "25MiB", "(", ")"]

    /// One random edit: delete, insert, duplicate or swap a character, or insert, delete or
    /// duplicate a run of text.
    static func mutate(_ scalars: inout [Unicode.Scalar], using random: inout SplitMix64) {
        let count = scalars.count
        let index = count == 0 ? 0 : Int.random(in: 0 ..< count, using: &random)
        switch Int.random(in: 0 ..< 7, using: &random) {
        case 0 where count > 0:
            scalars.remove(at: index)
        case 1:
            scalars.insert(alphabet[Int.random(in: 0 ..< alphabet.count, using: &random)], at: index)
        case 2 where count > 0:
            scalars.insert(scalars[index], at: index)
        case 3 where count > 1:
            let other = Int.random(in: 0 ..< count, using: &random)
            scalars.swapAt(index, other)
        case 4:
            let fragment = fragments[Int.random(in: 0 ..< fragments.count, using: &random)]
            scalars.insert(contentsOf: fragment.unicodeScalars, at: index)
        case 5 where count > 0:
            let end = min(count, index + Int.random(in: 1 ... 12, using: &random))
            scalars.removeSubrange(index ..< end)
        case 6 where count > 0:
            let end = min(count, index + Int.random(in: 1 ... 12, using: &random))
            scalars.insert(contentsOf: scalars[index ..< end], at: end)
        default:
            scalars.append(alphabet[Int.random(in: 0 ..< alphabet.count, using: &random)])
        }
    }
}

extension String {
    /// A hash that is the same in every run (Swift's `hashValue` is seeded per process),
    /// so each file gets its own, repeatable mutation seeds: FNV-1a over the UTF-8 bytes.
    var stableHash: UInt64 {
        utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }
}
