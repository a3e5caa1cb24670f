/// What one kernel does, in the units a cost model prices: arithmetic and memory traffic.
public struct Work: Hashable, Sendable {
    /// Floating-point operations (a multiply-add counts two).
    public var flops: Double
    /// Bytes read from and written to GPU memory, assuming each operand crosses once.
    public var bytes: Double
    /// The precision the arithmetic runs in, which selects the GPU's peak.
    public var precision: Precision

    public init(flops: Double, bytes: Double, precision: Precision) {
        self.flops = flops
        self.bytes = bytes
        self.precision = precision
    }
}
