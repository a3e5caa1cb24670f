import Foundation

/// Runs `work` for each item on `jobs` threads and hands the results, as they finish, to
/// one consumer on the calling thread.
///
/// The consumer is the only place results go, so it can write them to a database that
/// takes one writer (a sweep simulates on every core and stores serially). `stop()` — from
/// a signal handler, the consumer, or a test hook — lets the items in progress finish and
/// starts no more; their results are still consumed.
final class WorkerPool<Output: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var next = 0
    private var finished: [(item: Int, output: Output)] = []
    private var running = 0
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
        running = max(1, min(jobs, items.count))
        if items.isEmpty { return }
        for _ in 0..<running {
            let thread = Thread { [self] in
                while let item = take(items) {
                    let output = work(item)
                    condition.lock()
                    finished.append((item, output))
                    condition.signal()
                    condition.unlock()
                }
                condition.lock()
                running -= 1
                condition.signal()
                condition.unlock()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        var failure: (any Error)?
        while true {
            condition.lock()
            while finished.isEmpty, running > 0 { condition.wait() }
            let batch = finished
            finished.removeAll()
            let done = running == 0
            condition.unlock()
            for (item, output) in batch where failure == nil {
                do {
                    try consume(item, output)
                } catch {
                    failure = error
                    stop()
                }
            }
            if done, batch.isEmpty { break }
        }
        if let failure { throw failure }
    }

    private func take(_ items: [Int]) -> Int? {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping, next < items.count else { return nil }
        next += 1
        return items[next - 1]
    }
}
