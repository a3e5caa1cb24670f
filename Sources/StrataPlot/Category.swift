/// A kind of thing a plot colours the same everywhere: a stream or pass in a timeline, a
/// share of time in a breakdown.
public struct Category: Hashable, Sendable {
    public var name: String
    public var colour: String

    public init(_ name: String, colour: String) {
        self.name = name
        self.colour = colour
    }
}
