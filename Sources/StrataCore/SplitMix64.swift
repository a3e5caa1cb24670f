/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
/// OOPSLA 2014): a tiny generator whose sequence depends only on its seed and is the same
/// on every platform, so anything drawn from it — an ECMP spine choice, a seeded test case —
/// is reproducible byte for byte and a failing case can be replayed from its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        defer { state &+= Self.gamma }
        return Self.mix(state)
    }

    /// The value `SplitMix64(seed: value).next()` returns: 64 well-spread bits from any
    /// input, for hashing without a generator. Stable across runs, unlike `Hasher`, which
    /// is seeded per process.
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ gamma
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
