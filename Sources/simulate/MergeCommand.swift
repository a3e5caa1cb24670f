import ArgumentParser
import StrataStore

/// `simulate merge`: join results databases, such as the shards of one sweep.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Copy the runs and sweeps of results databases into one.",
        discussion: """
            Copies every run (with its per-GPU and per-link rows), sweep and sweep point of each \
            input into the output, created if missing. A run whose inputs hash the output \
            already has is not copied again; the shards of one sweep become one sweep. Nothing \
            in the output is removed or changed, and each input is merged in one transaction. \
            Every input is checked first: a missing one, or one written by a newer Strata, stops \
            the merge before anything is written.
            """
    )

    @Argument(help: ArgumentHelp("The database to merge into; created if missing.", valueName: "out"))
    var output: String

    @Argument(help: ArgumentHelp("The databases to copy from.", valueName: "in"))
    var inputs: [String] = []

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("name at least one database to merge into \(output)") }
        if inputs.contains(output) { throw ValidationError("\(output) is both the output and an input") }
    }

    func run() throws {
        for input in inputs { try RunStore.checkMergeable(input) }
        let store = try RunStore(path: output, lockTimeout: 2)
        try store.checkWritable()
        var total = MergeCounts()
        for input in inputs {
            let counts = try store.merge(from: input)
            print("\(input): \(Self.count(counts.runsCopied, "run")) copied, \(counts.runsSkipped) already in \(output); "
                + "\(Self.count(counts.sweepsCopied, "new sweep")), \(Self.count(counts.pointsCopied, "sweep point")) copied")
            total.runsCopied += counts.runsCopied
            total.runsSkipped += counts.runsSkipped
            total.pointsCopied += counts.pointsCopied
        }
        print("merged \(Self.count(inputs.count, "database")) into \(output): \(Self.count(total.runsCopied, "run")) and "
            + "\(Self.count(total.pointsCopied, "sweep point")) copied, \(total.runsSkipped) already there")
    }

    /// `1 run`, `3 runs`.
    static func count(_ number: Int, _ noun: String) -> String {
        "\(number) \(noun)\(number == 1 ? "" : "s")"
    }
}
