import Testing
@testable import StrataGraph

/// A replicated head under sequence parallelism gathers the sequence-split final norm
/// output in forward; in backward every rank computes the same input gradient and keeps
/// its own slice, so nothing is reduced (a reduce-scatter would sum tp identical copies).
@Suite struct ReplicatedHeadTests {
    @Test func replicatedHeadGathersButDoesNotReduce() throws {
        let (_, graph) = try CompileSupport.compile(file: "strategies/small/tp4-sp.strata")
        let names = graph.program(of: 0).tasks.map(\.name)
        #expect(names.contains("head input all_gather mb0"))
        #expect(!names.contains { $0.hasPrefix("head input gradient") }, "a replicated head's input gradient needs no collective")
    }
}
