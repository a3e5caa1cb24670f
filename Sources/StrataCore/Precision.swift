/// A numeric format that tensors are stored in and that GPUs compute in.
///
/// The raw value is the spelling users write in strategy files and topology XML. The
/// integer formats are for quantized weights and activations (w8a8, w4a16 …); a GPU's peak
/// for them is in operations per second.
public enum Precision: String, CaseIterable, Hashable, Sendable, Codable {
    case fp32, tf32, bf16, fp16, fp8, int8, int4

    /// Bits one element occupies in memory. TF32 is a compute mode on fp32 storage.
    public var bits: Int {
        switch self {
        case .fp32, .tf32: 32
        case .bf16, .fp16: 16
        case .fp8, .int8: 8
        case .int4: 4
        }
    }

    /// Bytes one element occupies: half a byte for int4, which packs two per byte.
    public var bytesPerElement: Double { Double(bits) / 8 }

    /// Whether this is a floating-point format (training precisions must be).
    public var isFloatingPoint: Bool { self != .int8 && self != .int4 }
}
