import StrataCore
import Testing
@testable import StrataDSL

/// The canonical form, case by case: every test gives messy input and the exact text
/// `simulate fmt` must print, then checks that the output is a fixed point.
@Suite struct FormatterTests {
    /// Formats `input` and checks the two laws on the way: parsing the output gives the
    /// same tree, and formatting the output changes nothing.
    func format(_ input: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> String {
        let tree = try Parser.parse(input, path: "t.strata")
        let output = Formatter.format(tree)
        let reparsed = try Parser.parse(output, path: "t.strata")
        #expect(reparsed.withoutLocations == tree.withoutLocations, "parse → print → parse changed the tree", sourceLocation: sourceLocation)
        #expect(Formatter.format(reparsed) == output, "formatting is not idempotent", sourceLocation: sourceLocation)
        return output
    }

    @Test(arguments: [
        ("x = a - (b - c)", "x = a - (b - c)"),
        ("x = (a - b) - c", "x = a - b - c"),
        ("x = a + (b + c)", "x = a + (b + c)"),
        ("x=(a*b)+c", "x = a * b + c"),
        ("x = a*(b+c)", "x = a * (b + c)"),
        ("x = a / (b * c)", "x = a / (b * c)"),
        ("x = (a / b) * c", "x = a / b * c"),
        ("x = a - b * c", "x = a - b * c"),
        ("x = ((((1))))", "x = 1"),
        ("x = -(a + b)", "x = -(a + b)"),
        ("x = -(a * b)", "x = -(a * b)"),
        ("x = (-a) * b", "x = -a * b"),
        ("x = - -a", "x = -(-a)"),
        ("x = a - -b", "x = a - -b"),
        ("x = (a)-(-(b))", "x = a - -b"),
        ("x = [1,2 , -3]", "x = [1, 2, -3]"),
        ("x = [ ]", "x = []"),
        ("x = [[1], [2 * (3 + 4)], \"s\"]", "x = [[1], [2 * (3 + 4)], \"s\"]"),
        ("x = 1_024", "x = 1024"),
        ("x = 25MiB", "x = 25MiB"),
        ("x = 1_000GBps", "x = 1000GBps"),
        ("x = 0.5", "x = 0.5"),
        ("x = 1e-3", "x = 0.001"),
        ("x = 1e20", "x = 1e+20"),
        ("x = 99999999999999999999", "x = 1e+20"),
        (#"x = "a\"b\\c""#, #"x = "a\"b\\c""#),
        (#"x = "line\nbreak""#, #"x = "line\nbreak""#),
        (#"x = "\q""#, #"x = "q""#),
        ("import   \"base.strata\"", "import \"base.strata\""),
        ("let   dp=2*4", "let dp = 2 * 4"),
    ])
    func printsOneItem(input: String, expected: String) throws {
        #expect(try format(input) == expected + "\n")
    }

    @Test func printsPathsSelectorsAndLabels() throws {
        let input = """
            layers [ 0 .. 11 ] . mlp  {
            ratio = 0.5 }
            layers[*]{ a = 1 }
            layers[3].attention "q k" { a = 1 }
            model "gpt" { b = 2 }
            model "" { c = 3 }
            """
        #expect(try format(input) == """
            layers[0..11].mlp { ratio = 0.5 }
            layers[*] { a = 1 }
            layers[3].attention "q k" { a = 1 }
            model gpt { b = 2 }
            model "" { c = 3 }

            """)
    }

    @Test func keepsCommentsInEveryPosition() throws {
        let input = """


            // The file's header.

            // About dp.
            let dp = 4   // trailing, spaces trimmed   


            model gpt {   // after the brace

                // Before layers.
                layers = 12 // layers
                hidden = [768,   // inside a value
                          1024]


                // Before the brace.
            }  // after the block
            training {
                // Only a comment.
            }
            empty {
            }
            // At the end.

            // Really the end.

            """
        #expect(try format(input) == """
            // The file's header.

            // About dp.
            let dp = 4  // trailing, spaces trimmed

            model gpt {  // after the brace
                // Before layers.
                layers = 12  // layers
                // inside a value
                hidden = [768, 1024]

                // Before the brace.
            }  // after the block
            training {
                // Only a comment.
            }
            empty {}
            // At the end.

            // Really the end.

            """)
    }

    @Test func aBlankLineBeforeAnItemWithInnerCommentsStaysAboveThem() throws {
        let input = """
            a = 1

            b = [1, // one
                 2]
            """
        #expect(try format(input) == """
            a = 1

            // one
            b = [1, 2]

            """)
    }

    @Test func keepsTheUsersBlankLinesCollapsedToOne() throws {
        let input = "a = 1\n\n\n\nb = 2\nc = 3\n\n"
        #expect(try format(input) == "a = 1\n\nb = 2\nc = 3\n")
    }

    @Test func printsSmallCommentFreeBlocksOnOneLine() throws {
        let input = """
            cluster {
                topology = "t.xml"
                gpus = dp
            }
            training { a = 1 b = 2 c = 3 d = 4 }
            strategy { mesh { data = dp } }
            commented { a = 1 // why
            }
            spaced {
                a = 1

                b = 2
            }
            wide { path = "\(String(repeating: "x", count: 90))" }
            """
        #expect(try format(input) == """
            cluster { topology = "t.xml"  gpus = dp }
            training {
                a = 1
                b = 2
                c = 3
                d = 4
            }
            strategy {
                mesh { data = dp }
            }
            commented {
                a = 1  // why
            }
            spaced {
                a = 1

                b = 2
            }
            wide {
                path = "\(String(repeating: "x", count: 90))"
            }

            """)
    }

    @Test func theOneLineRuleCountsIndentationAndTheTrailingComment() throws {
        // 100 columns exactly fits; one more does not.
        let fits = "b { k = \"" + String(repeating: "x", count: 84) + "\" }"
        #expect(fits.count == 96)
        #expect(try format("a {\n\(fits)\n}") == "a {\n    \(fits)\n}\n")
        let tooWide = try format("a {\n\(fits) // c\n}")
        #expect(tooWide.hasPrefix("a {\n    b {\n"))
    }

    @Test func anEmptyFileStaysEmpty() throws {
        #expect(try format("") == "")
        #expect(try format("\n\n  \n") == "")
        #expect(try format("// only\n") == "// only\n")
    }

    @Test func theParserNormalizesWhatCanonicalFormDrops() throws {
        let file = try Parser.parse("\n\nmodel gpt {\n\n    a = 1\n}\n", path: "t.strata")
        guard case let .block(model) = file.items[0] else { Issue.record("expected a block"); return }
        #expect(model.trivia.blankLineBefore == false)
        #expect(model.members[0].trivia.blankLineBefore == false)
    }

    @Test func tooLargeNumbersAndDeepNestingAreErrors() {
        #expect(throws: DiagnosticError.self) { try Parser.parse("x = 1e999", path: "t.strata") }
        let deep = String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000)
        #expect(throws: DiagnosticError.self) { try Parser.parse("x = " + deep, path: "t.strata") }
        #expect(throws: DiagnosticError.self) { try Parser.parse("x = " + String(repeating: "-", count: 10_000) + "1", path: "t.strata") }
        let blocks = String(repeating: "a {", count: 10_000) + String(repeating: "}", count: 10_000)
        #expect(throws: DiagnosticError.self) { try Parser.parse(blocks, path: "t.strata") }
        // Up to the limit is fine.
        let limit = Parser.maximumDepth - 1
        let allowed = String(repeating: "(", count: limit - 1) + "1" + String(repeating: ")", count: limit - 1)
        #expect(throws: Never.self) { try Parser.parse("x = " + allowed, path: "t.strata") }
    }
}
