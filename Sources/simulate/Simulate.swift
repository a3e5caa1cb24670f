import ArgumentParser
import Foundation
import StrataCore
import StrataEngine
import StrataStore

/// The root command: configuration only; each subcommand lives in its own file.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Predict the iteration time, throughput, MFU and memory of distributed LLM training.",
        discussion: """
            Strata reads a strategy file (the model, the training setup, the cluster and the \
            parallel strategy), simulates one training iteration on the cluster's topology, \
            and stores the result in an SQLite database for later comparison.

            Exit codes: 0 success, 2 bad input (diagnostics on standard error), 1 other failures.
            """,
        version: StrataVersion.current,
        subcommands: [RunCommand.self, CheckCommand.self, GraphCommand.self, ExportCommand.self, ValidateCommand.self, SweepCommand.self, MergeCommand.self, QueryCommand.self, FmtCommand.self,
                      CalibrateCommand.self, CostCommand.self, PlotCommand.self]
    )

    /// Parses the command line and runs the command, exiting with 2 for bad input.
    static func runWithExitCodes() -> Never {
        do {
            var command = try parseAsRoot()
            try command.run()
            Foundation.exit(0)
        } catch let error as DiagnosticError {
            printError(error.description)
            Foundation.exit(2)
        } catch let error as StoreError {
            printError(error.description)
            Foundation.exit(error.kind == .input ? 2 : 1)
        } catch let error as ExitCode {
            // A command that chose its status (an interrupted sweep exits 130, as shells expect).
            Foundation.exit(error.rawValue)
        } catch let error as ExecutionError {
            printError("simulate: internal error: \(error.description)")
            Foundation.exit(1)
        } catch {
            // Argument-parser errors: help and version exit 0; usage errors are bad input.
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                print(message)
                Foundation.exit(0)
            }
            printError(message)
            Foundation.exit(code == .validationFailure || code.rawValue == 64 ? 2 : code.rawValue == 0 ? 0 : 1)
        }
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
