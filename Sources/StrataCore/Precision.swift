/// A numeric format that tensors are stored in and that GPUs compute in.
///
/// The raw value is the spelling users write in strategy files and topology XML.
public enum Precision: String, CaseIterable, Hashable, Sendable, Codable {
    case fp32, tf32, bf16, fp16, fp8

    /// Bytes one element occupies in memory. TF32 is a compute mode on fp32 storage.
    public var bytesPerElement: Int {
        switch self {
        case .fp32, .tf32: 4
        case .bf16, .fp16: 2
        case .fp8: 1
        }
    }
}
