import StrataCore

/// The optimizers a strategy can name, and what each keeps per parameter.
public enum OptimizerKind: String, CaseIterable, Hashable, Sendable {
    case sgd, adam, adamw

    /// fp32 state tensors per parameter: momentum for SGD; first and second moments for Adam.
    public var stateTensors: Int {
        switch self {
        case .sgd: 1
        case .adam, .adamw: 2
        }
    }
}

/// How an optimizer with fp32 master weights meets the 16-bit weights and gradients.
public enum MasterCopies: String, CaseIterable, Hashable, Sendable {
    /// Megatron-LM's mixed-precision optimizer, and PyTorch's fused AdamW on fp32 masters:
    /// the 16-bit gradients are cast into fp32 before the step and the updated masters
    /// copied back into the 16-bit weights after it, each a memory-bound kernel of its own
    /// (12 bytes a parameter beside the step).
    case separate
    /// A precision-aware optimizer kernel (Transformer Engine's FusedAdam with master
    /// weights) reads the 16-bit gradients and writes the 16-bit weights itself.
    case fused
}

/// Mixed-precision training state per parameter (Rajbhandari et al. 2020, "ZeRO", §3.1):
/// 16-bit weights and gradients, fp32 master weights and fp32 optimizer state — 16 bytes
/// per parameter with Adam.
public struct TrainingState: Hashable, Sendable {
    public var optimizer: OptimizerKind
    public var weightPrecision: Precision
    public var gradientPrecision: Precision
    /// The precision of the optimizer's state tensors (fp32 by default; bf16 halves them).
    public var statePrecision: Precision
    /// Whether an fp32 copy of the weights is kept for the update (needed with 16-bit weights).
    public var masterWeights: Bool
    /// With master weights, whether the casts between them and the 16-bit tensors are
    /// kernels of their own (`separate`) or inside the optimizer's (`fused`).
    public var masterCopies: MasterCopies

    public init(optimizer: OptimizerKind, weightPrecision: Precision, gradientPrecision: Precision,
                statePrecision: Precision = .fp32, masterWeights: Bool, masterCopies: MasterCopies = .separate) {
        self.optimizer = optimizer
        self.weightPrecision = weightPrecision
        self.gradientPrecision = gradientPrecision
        self.statePrecision = statePrecision
        self.masterWeights = masterWeights
        self.masterCopies = masterCopies
    }

    /// Whether the step runs between separate cast kernels (`castGradients`, `copyWeights`).
    public var castsSeparately: Bool {
        masterWeights && masterCopies == .separate && (weightPrecision != .fp32 || gradientPrecision != .fp32)
    }

    public var weightBytesPerParameter: Double { weightPrecision.bytesPerElement }
    public var gradientBytesPerParameter: Double { gradientPrecision.bytesPerElement }
    public var optimizerBytesPerParameter: Double {
        Double(optimizer.stateTensors) * statePrecision.bytesPerElement + (masterWeights ? 4 : 0)
    }

    /// The optimizer step over `parameters`: read the gradient, the state and the master
    /// weights, write the state and the master weights (the fused AdamW kernel); and, where
    /// the casts are inside it, read the 16-bit gradient and write the 16-bit weights too.
    /// With separate casts it reads the fp32 gradient `castGradients` wrote.
    public func step(parameters: Int64) -> Op {
        let p = Double(parameters)
        let stateBytes = optimizerBytesPerParameter
        let bytes = castsSeparately ? p * (4 + 2 * stateBytes)
            : p * (gradientBytesPerParameter + 2 * stateBytes + weightBytesPerParameter)
        let flopsPerParameter: Double = optimizer == .sgd ? 3 : 12
        let work = Work(flops: p * flopsPerParameter, bytes: bytes, precision: .fp32)
        return Op(name: "optimizer.\(optimizer.rawValue)", family: .optimizerStep, forward: work,
                  backward: Work(flops: 0, bytes: 0, precision: .fp32), savedBytes: 0, parameters: 0)
    }

    /// Before a step with separate casts: the 16-bit gradients of `parameters` read and
    /// written into an fp32 buffer the step reads. Nil where the casts are fused.
    public func castGradients(parameters: Int64) -> Op? {
        guard castsSeparately else { return nil }
        let p = Double(parameters)
        return OpCosts.copy("optimizer.cast_gradients", read: p * gradientBytesPerParameter, written: p * 4)
    }

    /// After a step with separate casts: the updated fp32 masters read and written into
    /// the 16-bit weights. Nil where the casts are fused.
    public func copyWeights(parameters: Int64) -> Op? {
        guard castsSeparately else { return nil }
        let p = Double(parameters)
        return OpCosts.copy("optimizer.copy_weights", read: p * 4, written: p * weightBytesPerParameter)
    }
}
