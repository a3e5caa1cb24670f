/// Where a stored run's time went, averaged over its GPUs, as reports compare and plots
/// stack it. Per GPU, compute + exposed communication + idle is the iteration time, so
/// the means add up the same way; the exposed time of each kind is counted on its own
/// (kinds that overlap each other are each counted), so those may add up to more than
/// `exposedCommunicationS`.
public struct RunTimeBreakdown: Hashable, Sendable {
    public var gpus: Int
    public var computeS: Double
    public var communicationS: Double
    public var exposedCommunicationS: Double
    public var exposedTpS: Double
    public var exposedCpS: Double
    public var exposedEpS: Double
    public var exposedPpS: Double
    public var exposedDpS: Double
    public var exposedGatherS: Double
    /// The pipeline bubble: idle time of pipelined runs (zero for others).
    public var bubbleS: Double
    /// Neither computing nor exposed communicating; includes the bubble.
    public var idleS: Double
    /// The largest per-GPU high-water mark.
    public var peakMemoryBytes: Int64
    /// The smallest GPU memory of the run.
    public var memoryCapacityBytes: Int64

    public init(gpus: Int, computeS: Double, communicationS: Double, exposedCommunicationS: Double, exposedTpS: Double,
                exposedCpS: Double, exposedEpS: Double, exposedPpS: Double, exposedDpS: Double, exposedGatherS: Double,
                bubbleS: Double, idleS: Double, peakMemoryBytes: Int64, memoryCapacityBytes: Int64) {
        self.gpus = gpus
        self.computeS = computeS
        self.communicationS = communicationS
        self.exposedCommunicationS = exposedCommunicationS
        self.exposedTpS = exposedTpS
        self.exposedCpS = exposedCpS
        self.exposedEpS = exposedEpS
        self.exposedPpS = exposedPpS
        self.exposedDpS = exposedDpS
        self.exposedGatherS = exposedGatherS
        self.bubbleS = bubbleS
        self.idleS = idleS
        self.peakMemoryBytes = peakMemoryBytes
        self.memoryCapacityBytes = memoryCapacityBytes
    }

    /// Exposed communication by kind, in a fixed order, with the names the engine's
    /// streams carry.
    public var exposedByKind: [(kind: String, seconds: Double)] {
        [("tp-comm", exposedTpS), ("cp-comm", exposedCpS), ("ep-comm", exposedEpS), ("pp-comm", exposedPpS),
         ("grad-sync", exposedDpS), ("param-gather", exposedGatherS)]
    }
}
