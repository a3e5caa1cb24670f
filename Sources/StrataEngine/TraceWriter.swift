import Foundation
import StrataCore
import StrataGraph

/// Writes a simulated iteration as a Chrome/Perfetto trace (the Trace Event Format,
/// "JSON Object Format"): a process per GPU, a thread per stream, a complete event per
/// task, flow arrows from each pipeline send to its receive, a memory counter, and a
/// "critical path" thread per GPU repeating the tasks on the iteration's critical path.
///
/// Output is deterministic: events in (GPU, start, task) order, times in microseconds with
/// three decimals (nanoseconds), keys in a fixed order.
public enum TraceWriter {
    /// `ranks` are the simulated GPUs, in the order `timeline` holds them; `gpuNames` is indexed by rank.
    public static func json(graph: ExecutionGraph, timeline: Timeline, ranks: [Int], gpuNames: [String],
                            criticalPath: CriticalPath = CriticalPath()) -> String {
        var events: [String] = []
        let streams = StreamKind.allCases
        func microseconds(_ time: SimTime) -> String { String(format: "%.3f", Double(time.picoseconds) / 1e6) }
        func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var transferEnds: [String: (rank: Int, span: Timeline.Span, stream: Int)] = [:]
        var critical = Set(criticalPath.steps)
        for (index, rank) in ranks.enumerated() {
            events.append("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":\(rank),\"args\":{\"name\":\(quoted("GPU \(rank) · \(gpuNames[rank])"))}}")
            for (index, stream) in streams.enumerated() {
                events.append("{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":\(rank),\"tid\":\(index),\"args\":{\"name\":\(quoted(stream.rawValue))}}")
            }
            let onPath = timeline.spans[index].filter { critical.remove(CriticalPath.Step(simulated: index, task: $0.task)) != nil }
            if !onPath.isEmpty {
                events.append("{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":\(rank),\"tid\":\(streams.count),\"args\":{\"name\":\"critical path\"}}")
            }
            let program = graph.program(of: rank)
            let spans = timeline.spans[index].sorted { ($0.start, $0.task) < ($1.start, $1.task) }
            for span in spans {
                let task = program.tasks[span.task]
                let tid = streams.firstIndex(of: task.stream)!
                events.append("{\"name\":\(quoted(task.name)),\"cat\":\(quoted(task.stream.rawValue)),\"ph\":\"X\",\"pid\":\(rank),\"tid\":\(tid),\"ts\":\(microseconds(span.start)),\"dur\":\(microseconds(span.end - span.start))}")
                switch task.action {
                case let .send(transfer):
                    let peer = graph.mesh.neighbour(of: rank, along: transfer.axis, offset: transfer.offset)
                    transferEnds["\(rank)>\(peer)#\(transfer.tag)"] = (rank, span, tid)
                case let .receive(transfer):
                    let peer = graph.mesh.neighbour(of: rank, along: transfer.axis, offset: transfer.offset)
                    transferEnds["\(peer)>\(rank)#\(transfer.tag)@r"] = (rank, span, tid)
                default:
                    break
                }
            }
            for span in onPath.sorted(by: { ($0.start, $0.task) < ($1.start, $1.task) }) {
                events.append("{\"name\":\(quoted(program.tasks[span.task].name)),\"cat\":\"critical\",\"ph\":\"X\",\"pid\":\(rank),\"tid\":\(streams.count),\"ts\":\(microseconds(span.start)),\"dur\":\(microseconds(span.end - span.start))}")
            }
            for sample in timeline.memory[index] {
                events.append("{\"name\":\"memory\",\"ph\":\"C\",\"pid\":\(rank),\"ts\":\(microseconds(sample.time)),\"args\":{\"GiB\":\(String(format: "%.6f", Double(sample.bytes) / 1_073_741_824))}}")
            }
        }
        // Flow arrows: each transfer from its send to its receive.
        var flowID = 0
        for key in transferEnds.keys.filter({ !$0.hasSuffix("@r") }).sorted() {
            guard let send = transferEnds[key], let receive = transferEnds[key + "@r"] else { continue }
            events.append("{\"name\":\"transfer\",\"cat\":\"p2p\",\"ph\":\"s\",\"id\":\(flowID),\"pid\":\(send.rank),\"tid\":\(send.stream),\"ts\":\(microseconds(send.span.start))}")
            events.append("{\"name\":\"transfer\",\"cat\":\"p2p\",\"ph\":\"f\",\"bp\":\"e\",\"id\":\(flowID),\"pid\":\(receive.rank),\"tid\":\(receive.stream),\"ts\":\(microseconds(receive.span.end))}")
            flowID += 1
        }
        return "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n" + events.joined(separator: ",\n") + "\n]}\n"
    }
}
