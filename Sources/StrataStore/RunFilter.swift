/// Which stored runs a report looks at: a strategy path pattern, a topology, and whether
/// runs that do not fit in memory count.
public struct RunFilter: Hashable, Sendable {
    /// A glob on `strategy_path` (`*` any text, `?` one character), as SQLite's `GLOB`
    /// matches it: case-sensitive, like the paths it matches.
    public var strategyPattern: String?
    /// The topology's name exactly, as `simulate query` lists it.
    public var topologyName: String?
    /// Keep only runs whose every GPU fits its memory.
    public var fitsOnly: Bool

    public init(strategyPattern: String? = nil, topologyName: String? = nil, fitsOnly: Bool = false) {
        self.strategyPattern = strategyPattern
        self.topologyName = topologyName
        self.fitsOnly = fitsOnly
    }
}
