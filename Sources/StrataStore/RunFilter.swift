/// Which stored runs a report looks at: a strategy path pattern, a topology, a GPU count,
/// and whether runs that do not fit in memory count.
public struct RunFilter: Hashable, Sendable {
    /// A glob on `strategy_path` (`*` any text, `?` one character), as SQLite's `GLOB`
    /// matches it: case-sensitive, like the paths it matches.
    public var strategyPattern: String?
    /// The topology's name exactly, as `simulate query` lists it.
    public var topologyName: String?
    /// Only runs on exactly this many GPUs ("the best layout on 256 GPUs").
    public var gpus: Int?
    /// Keep only runs whose every GPU fits its memory.
    public var fitsOnly: Bool

    public init(strategyPattern: String? = nil, topologyName: String? = nil, gpus: Int? = nil, fitsOnly: Bool = false) {
        self.strategyPattern = strategyPattern
        self.topologyName = topologyName
        self.gpus = gpus
        self.fitsOnly = fitsOnly
    }
}
