import ArgumentParser
import StrataCore
import StrataGraph
import StrataModel

/// `simulate check`: parse and validate a strategy without simulating or storing it.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a strategy file and print it resolved, with every default filled in.",
        discussion: """
            Prints the model, the training setup, the cluster, the mesh and the strategy tree: \
            every module with its effective attributes (where they differ from its parent's) \
            and every op with its layout in the general form — which mesh axes split each \
            dimension and which shard its weights, gradients and optimizer state. Identical \
            repeated modules are shown once, as layers[0..11]. Exits 0 when the strategy is \
            valid; otherwise prints every problem found and exits 2.
            """
    )

    @OptionGroup var strategy: StrategyOptions

    func run() throws {
        let (_, resolved) = try Pipeline(options: strategy).resolve()
        print(StrategyReport.describe(resolved))
    }
}
