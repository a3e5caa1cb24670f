import StrataCore
import Testing
@testable import StrataDSL

@Suite struct ParserTests {
    @Test func parsesParametersBlocksSelectorsAndArithmetic() throws {
        let file = try Parser.parse("""
            let tp = 2 * 4
            model gpt { hidden = tp * 1_024  bucket = 25MiB  name = "x" }
            layers[0..11].mlp { ratio = 0.5 }
            layers[*] { list = [1, 2, -3] }
            """, path: "t.strata")
        #expect(file.items.count == 4)
        guard case let .parameter(tp) = file.items[0] else { Issue.record("expected a parameter"); return }
        #expect(tp.name == "tp")
        guard case let .block(model) = file.items[1] else { Issue.record("expected a block"); return }
        #expect(model.name == "model" && model.label == "gpt" && model.members.count == 3)
        guard case let .assignment(bucket) = model.members[1] else { Issue.record("expected an assignment"); return }
        #expect(bucket.value == .quantity(text: "25MiB", SourceLocation(file: "t.strata", line: 2, column: 43)))
        guard case let .block(mlp) = file.items[2] else { Issue.record("expected a block"); return }
        #expect(mlp.path.map(\.name) == ["layers", "mlp"])
        #expect(mlp.path[0].selector == .range(0, 11))
        guard case let .block(all) = file.items[3] else { Issue.record("expected a block"); return }
        #expect(all.path[0].selector == .all)
    }

    @Test func reportsEverySyntaxErrorWithItsPosition() {
        do {
            _ = try Parser.parse("""
                model gpt {
                    hidden 768
                    heads = ]
                }
                }
                """, path: "bad.strata")
            Issue.record("bad input parsed")
        } catch {
            #expect(error.description == """
                bad.strata:2:12: error: expected '=' or '{' after 'hidden', found '768'
                  help: write 'hidden = value' for a setting or 'hidden { … }' for a block
                bad.strata:3:13: error: expected a value, found ']'
                  help: values are numbers, "text", names or [lists]
                bad.strata:5:1: error: unmatched '}'
                  help: remove it, or open a block before it
                """)
        }
    }

    @Test func anEmptySelectorRangeIsAnError() {
        #expect(throws: DiagnosticError.self) { try Parser.parse("layers[5..2] { }", path: "r.strata") }
    }

    @Test func parsesOverrideValues() throws {
        #expect(try Parser.parseExpression("8", origin: "--set dp") == .integer(8, SourceLocation(file: "--set dp", line: 1, column: 1)))
        #expect(throws: DiagnosticError.self) { try Parser.parseExpression("8 9", origin: "--set dp") }
    }
}
