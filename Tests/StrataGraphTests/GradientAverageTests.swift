import Testing
@testable import StrataGraph
import StrataModel

/// Averaging gradients over the data-parallel replicas (`grad_sync { average = … }`): by
/// default a pass over each bucket on the compute stream before its collective reads it
/// (FSDP2, Megatron-LM without `average_in_collective`); a kernel per gradient tensor
/// (`per_tensor`, PyTorch DDP's reducer); none where the collective averages
/// (`in_collective`).
struct GradientAverageTests {
    static func source(average: String?) -> String {
        """
        model gpt { layers = 2  hidden = 256  heads = 4  vocab = 1024  seq = 128 }
        training { global_batch = 4  micro_batch = 1  precision = bf16 }
        cluster { topology = "../../topologies/h100-sxm-4gpu.xml"  gpus = 2 }
        strategy {
            mesh { data = 2 }
            data_parallel = data
            grad_sync { bucket = 64KiB\(average.map { "  average = \($0)" } ?? "") }
        }
        """
    }

    static func tasks(average: String?) throws -> [GraphTask] {
        let (_, graph) = try CompileSupport.compile(text: source(average: average), at: "strategies/small/average.strata")
        return graph.program(of: 0).tasks
    }

    @Test(arguments: [nil, "pass"])
    func everyBucketIsDividedOnceBeforeItsAllReduce(_ average: String?) throws {
        let tasks = try Self.tasks(average: average)
        let reductions = tasks.filter { if case let .collective(call) = $0.action { call.label == "gradients" } else { false } }
        #expect(reductions.count > 1, "several buckets")
        for reduction in reductions {
            guard case let .collective(call) = reduction.action else { continue }
            let passes = tasks.filter { reduction.dependencies.contains($0.id) && $0.name.hasPrefix("gradients average") }
            #expect(passes.count == 1, "\(reduction.name)")
            if let pass = passes.first, case let .compute(kernel) = pass.action {
                #expect(pass.stream == .compute)
                #expect(kernel.work.bytes == 2 * Double(call.bytes), "the bucket read and written")
            }
        }
    }

    /// DDP's reducer divides every gradient tensor apart: a product's weight and bias, a
    /// LayerNorm's scale and shift, the embedding: 12 tensors a GPT layer, the embedding and
    /// the final norm's two, each read and written once, chained before its bucket's
    /// all-reduce, and together the same bytes as a pass over every bucket.
    @Test func perTensorAveragingDividesEachGradientWithAKernelOfItsOwn() throws {
        let tasks = try Self.tasks(average: "per_tensor")
        let divisions = tasks.filter { $0.name.hasPrefix("gradient average") }
        #expect(divisions.count == 2 * 12 + 1 + 2)
        #expect(!tasks.contains { $0.name.hasPrefix("gradients average") })
        let passes = try Self.tasks(average: "pass").filter { $0.name.hasPrefix("gradients average") }
        func bytes(_ tasks: [GraphTask]) -> Double {
            tasks.reduce(0) { if case let .compute(kernel) = $1.action { $0 + kernel.work.bytes } else { $0 } }
        }
        #expect(bytes(divisions) == bytes(passes))
        for reduction in tasks {
            guard case let .collective(call) = reduction.action, call.label == "gradients" else { continue }
            let last = tasks.filter { reduction.dependencies.contains($0.id) }
            #expect(last.count == 1 && last[0].name.hasPrefix("gradient average") && last[0].stream == .compute,
                    "\(reduction.name) waits for its bucket's last division")
        }
    }

    @Test func averagingInTheCollectiveCostsNoPass() throws {
        let tasks = try Self.tasks(average: "in_collective")
        #expect(!tasks.contains { $0.name.hasPrefix("gradients average") })
        #expect(tasks.contains { if case let .collective(call) = $0.action { call.label == "gradients" } else { false } })
    }
}
