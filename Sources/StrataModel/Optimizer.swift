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

    public init(optimizer: OptimizerKind, weightPrecision: Precision, gradientPrecision: Precision,
                statePrecision: Precision = .fp32, masterWeights: Bool) {
        self.optimizer = optimizer
        self.weightPrecision = weightPrecision
        self.gradientPrecision = gradientPrecision
        self.statePrecision = statePrecision
        self.masterWeights = masterWeights
    }

    public var weightBytesPerParameter: Double { weightPrecision.bytesPerElement }
    public var gradientBytesPerParameter: Double { gradientPrecision.bytesPerElement }
    public var optimizerBytesPerParameter: Double {
        Double(optimizer.stateTensors) * statePrecision.bytesPerElement + (masterWeights ? 4 : 0)
    }

    /// The optimizer step over `parameters`: read the gradient, the state and the master
    /// weights, write the state and both copies of the weights (the fused AdamW kernel).
    public func step(parameters: Int64) -> Op {
        let p = Double(parameters)
        let stateBytes = optimizerBytesPerParameter
        let bytes = p * (gradientBytesPerParameter + 2 * stateBytes + weightBytesPerParameter)
        let flopsPerParameter: Double = optimizer == .sgd ? 3 : 12
        let work = Work(flops: p * flopsPerParameter, bytes: bytes, precision: .fp32)
        return Op(name: "optimizer.\(optimizer.rawValue)", family: .optimizerStep, forward: work,
                  backward: Work(flops: 0, bytes: 0, precision: .fp32), savedBytes: 0, parameters: 0)
    }
}
