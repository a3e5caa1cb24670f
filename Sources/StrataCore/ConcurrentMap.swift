import Dispatch

/// `map` over all cores, for independent, pure work items (one class's program, one
/// class's prices): results come back in input order, so the output is the same as a
/// serial `map`'s, whatever the scheduling.
public enum ConcurrentMap {
    public static func map<Element, Result>(_ items: [Element], _ transform: (Element) -> Result) -> [Result] {
        guard items.count > 1 else { return items.map(transform) }
        return withoutActuallyEscaping(transform) { transform in
            var results = [Result?](repeating: nil, count: items.count)
            results.withUnsafeMutableBufferPointer { buffer in
                nonisolated(unsafe) let slots = buffer
                nonisolated(unsafe) let transform = transform
                nonisolated(unsafe) let items = items
                DispatchQueue.concurrentPerform(iterations: items.count) { index in
                    slots[index] = transform(items[index])
                }
            }
            return results.map { $0! }
        }
    }
}
