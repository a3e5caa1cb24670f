import ArgumentParser
import StrataGraph

/// The options every command that reads a strategy file shares.
struct StrategyOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The strategy file (.strata).", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("Use this topology XML instead of the one the strategy names.", valueName: "path"))
    var topology: String?

    @Option(name: .customLong("set"),
            help: ArgumentHelp("Override a 'let' parameter of the strategy, e.g. --set dp=8. Repeatable.",
                               valueName: "name=value"))
    var overrides: [String] = []

    @Option(help: ArgumentHelp("Measured kernel tables to price ops with (default: traces/ beside the topology's folder).",
                               valueName: "dir"))
    var traces: String?

    func validate() throws {
        for argument in overrides where Override(argument: argument) == nil {
            throw ValidationError("--set expects name=value, such as --set dp=8; got '\(argument)'")
        }
    }

    var parsedOverrides: [Override] { overrides.compactMap(Override.init(argument:)) }
}
