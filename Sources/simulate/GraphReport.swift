import Foundation
import StrataCore
import StrataGraph

/// How `simulate graph` shows a GPU's program.
enum GraphReport {
    static func table(_ graph: ExecutionGraph, rank: Int, limit: Int?) -> String {
        let program = graph.program(of: rank)
        let coordinates = graph.mesh.axes.map { "\($0.name) \(graph.mesh.coordinate(of: rank, along: $0.name))" }.joined(separator: ", ")
        var lines = [
            "rank \(rank) (\(coordinates)): \(program.label); \(program.members.count) of \(graph.rankCount) GPUs run this program",
            "\(Format.grouped(Double(program.tasks.count))) tasks, \(Format.grouped(Double(program.parameters))) parameters, \(Format.bytes(Double(program.persistentBytes))) of weights, gradients and optimizer state",
        ]
        let header = ["id", "stream", "task", "work", "after", "memory"]
        var rows: [[String]] = []
        for task in program.tasks.prefix(limit ?? program.tasks.count) {
            var memory: [String] = []
            if task.allocates > 0 { memory.append("+" + Format.bytes(Double(task.allocates))) }
            if task.frees > 0 { memory.append("-" + Format.bytes(Double(task.frees))) }
            rows.append([String(task.id), task.stream.rawValue, task.name, describe(task.action, graph: graph, rank: rank),
                         after(task.dependencies), memory.joined(separator: " ")])
        }
        lines.append(align([header] + rows))
        if let limit, program.tasks.count > limit { lines.append("… \(program.tasks.count - limit) more tasks (raise --limit)") }
        return lines.joined(separator: "\n")
    }

    /// The tasks a task waits for: all of them up to eight, else the first eight and how
    /// many more (an optimizer step can wait for thousands of gradient buckets, and one
    /// such cell would widen every row of the table to its length).
    static func after(_ dependencies: [Int]) -> String {
        guard dependencies.count > 8 else { return dependencies.map(String.init).joined(separator: ",") }
        return dependencies.prefix(8).map(String.init).joined(separator: ",") + ",… (\(dependencies.count) in all)"
    }

    static func describe(_ action: TaskAction, graph: ExecutionGraph, rank: Int) -> String {
        switch action {
        case let .compute(kernel):
            return "\(Format.flops(kernel.work.flops)), \(Format.bytes(kernel.work.bytes)) \(kernel.work.precision.rawValue)"
        case let .collective(call):
            let group = graph.mesh.group(of: rank, over: call.axes)
            let members = group.count <= 8 ? group.map(String.init).joined(separator: ",")
                : "\(group[0]),\(group[1]),…,\(group.last!) (\(group.count))"
            return "\(call.kind.rawValue) \(Format.bytes(Double(call.bytes))) over \(call.axes.joined(separator: "×")) [\(members)]"
        case let .send(transfer):
            return "send \(Format.bytes(Double(transfer.bytes))) to rank \(graph.mesh.neighbour(of: rank, along: transfer.axis, offset: transfer.offset))"
        case let .receive(transfer):
            return "receive \(Format.bytes(Double(transfer.bytes))) from rank \(graph.mesh.neighbour(of: rank, along: transfer.axis, offset: transfer.offset))"
        }
    }

    static func dot(_ graph: ExecutionGraph, rank: Int, limit: Int?) -> String {
        let program = graph.program(of: rank)
        let tasks = program.tasks.prefix(limit ?? program.tasks.count)
        var lines = ["digraph rank\(rank) {", "  rankdir=LR;", "  node [shape=box, fontsize=10];"]
        for stream in StreamKind.allCases {
            let members = tasks.filter { $0.stream == stream }
            guard !members.isEmpty else { continue }
            lines.append("  subgraph \"cluster_\(stream.rawValue)\" {")
            lines.append("    label=\"\(stream.rawValue)\";")
            for task in members {
                let label = "\(task.name)\\n\(describe(task.action, graph: graph, rank: rank))".replacingOccurrences(of: "\"", with: "'")
                lines.append("    t\(task.id) [label=\"\(label)\"];")
            }
            lines.append("  }")
        }
        let included = Set(tasks.map(\.id))
        for task in tasks {
            for dependency in task.dependencies where included.contains(dependency) { lines.append("  t\(dependency) -> t\(task.id);") }
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    private static func align(_ rows: [[String]]) -> String {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n")
    }
}
