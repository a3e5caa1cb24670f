import ArgumentParser
import Foundation
import StrataCore

/// Where a plot goes: a file given with `-o`, or standard output (for pipes and tests).
struct PlotOutput: ParsableArguments {
    @Option(name: [.customShort("o"), .long],
            help: ArgumentHelp("Write the SVG here (default: standard output).", valueName: "path"))
    var output: String?

    func write(_ svg: String) throws(DiagnosticError) {
        guard let output else {
            print(svg, terminator: "")
            return
        }
        do {
            try svg.write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            throw DiagnosticError(Diagnostic(file: output, "cannot write the plot: \(error.localizedDescription)",
                                             help: "check that the folder exists and is writable"))
        }
    }
}
