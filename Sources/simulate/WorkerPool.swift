import Foundation

/// Runs `work` for each item on `jobs` threads and hands the results to one consumer on
/// the calling thread, in the items' order.
///
/// The consumer is the only place results go, so it can write them to a database that
/// takes one writer (a sweep simulates on every core and stores serially); taking them in
/// order makes what it writes the same from run to run whatever the threads' timing.
/// Workers run at most `lookahead` results ahead of the consumer, so finished results do
/// not pile up in memory and a stop leaves little unstored work behind. `stop()` — from a
/// signal handler, the consumer, or a test hook — starts no more items; those in progress
/// finish and are consumed.
final class WorkerPool<Output: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    /// The position in `items` of the next item to start, and of the next to consume.
    private var next = 0
    private var nextToConsume = 0
    private var finished: [Int: Output] = [:]
    private var running = 0
    private var lookahead = 1
    private var stopping = false

    /// Whether `stop()` was called.
    var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    /// Starts no more items; those in progress finish and are consumed.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Runs every item of `items` (unless stopped) and returns when all that started are
    /// consumed. An error thrown by `consume` stops the pool and is rethrown once the
    /// threads have finished.
    func run(_ items: [Int], jobs: Int, work: @escaping @Sendable (Int) -> Output,
             consume: (Int, Output) throws -> Void) throws {
        guard !items.isEmpty else { return }
        running = max(1, min(jobs, items.count))
        // Room for a slow item to run while the other threads keep busy behind it: a
        // deep-pipeline point can take as long as fifty shallow ones, and finished
        // results (a point's rows) are small.
        lookahead = 64 * running
        for _ in 0..<running {
            let thread = Thread { [self] in
                while let position = take(items.count) {
                    let output = work(items[position])
                    condition.lock()
                    finished[position] = output
                    condition.broadcast()
                    condition.unlock()
                }
                condition.lock()
                running -= 1
                condition.broadcast()
                condition.unlock()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        var failure: (any Error)?
        while true {
            condition.lock()
            while finished[nextToConsume] == nil, running > 0 { condition.wait() }
            var batch: [(Int, Output)] = []
            while let output = finished.removeValue(forKey: nextToConsume) {
                batch.append((items[nextToConsume], output))
                nextToConsume += 1
            }
            let done = running == 0 && finished.isEmpty
            condition.broadcast()
            condition.unlock()
            for (item, output) in batch where failure == nil {
                do {
                    try consume(item, output)
                } catch {
                    failure = error
                    stop()
                }
            }
            if done { break }
        }
        if let failure { throw failure }
    }

    /// The position of the next item to start, waiting while the consumer is `lookahead`
    /// results behind; `nil` once stopped or out of items.
    private func take(_ count: Int) -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !stopping, next - nextToConsume >= lookahead { condition.wait() }
        guard !stopping, next < count else { return nil }
        next += 1
        return next - 1
    }
}
