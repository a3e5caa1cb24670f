import Testing
@testable import StrataPlot

/// Thousands of sub-pixel tasks become a few rectangles, each pixel column takes the
/// colour that covers most of it, and a short task alone still shows.
@Suite struct TimelineMergingTests {
    typealias Span = TimelineChart.Span

    @Test func runsOfOneCategoryBecomeOneRectangleOfTheirColour() {
        // 1,000 tiny forwards then 1,000 tiny backwards, 1 px = 1 unit.
        func tiny(_ index: Int, from origin: Double, category: Int) -> Span {
            let start: Double = origin + Double(index) * 0.01
            return Span(start: start, end: start + 0.009, category: category, name: "task \(index)")
        }
        let forwards: [Span] = (0..<1_000).map { tiny($0, from: 0, category: 0) }
        let backwards: [Span] = (0..<1_000).map { tiny($0, from: 10, category: 1) }
        let blocks = TimelineChart.blocks(Array((forwards + backwards).reversed()), position: { $0 })
        #expect(blocks.map(\.category) == [0, 1])
        #expect(blocks.map(\.count) == [1_000, 1_000])
        #expect(blocks.map(\.x0) == [0, 10] && blocks.map(\.x1) == [10, 20])
    }

    @Test func theCategoryCoveringMostOfAColumnColoursIt() {
        let spans = [
            Span(start: 0, end: 50, category: 0, name: "wide"),
            Span(start: 50.2, end: 50.5, category: 1, name: "tiny, alone in its column"),
            Span(start: 52, end: 52.3, category: 2, name: "minority"),
            Span(start: 52.3, end: 53, category: 1, name: "majority"),
            Span(start: 60, end: 60, category: 2, name: "zero length"),
        ]
        let blocks = TimelineChart.blocks(spans, position: { $0 })
        #expect(blocks.map(\.category) == [0, 1, 1, 2])
        #expect(blocks.map(\.x0) == [0, 50, 52, 60])
        #expect(blocks.map(\.count) == [1, 1, 2, 1])
        #expect(blocks[0].name == "wide" && blocks[0].start == 0 && blocks[0].end == 50)
    }

    @Test func manyAlternatingTinySpansGiveAtMostOneRectanglePerPixel() {
        var random = SplitMixLike(state: 0x2545F4914F6CDD1D)
        let spans = (0..<20_000).map { index -> Span in
            Span(start: Double(index) * 0.05, end: Double(index) * 0.05 + 0.04, category: random.next(below: 4), name: "t")
        }
        let blocks = TimelineChart.blocks(spans, position: { $0 })
        #expect(blocks.count <= 1_000, "20,000 tasks over 1,000 px gave \(blocks.count) rectangles")
        #expect(blocks.reduce(0) { $0 + $1.count } == 20_000)
    }

    /// A linear congruential generator, enough to scatter categories repeatably.
    struct SplitMixLike {
        var state: UInt64
        mutating func next(below bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33) % bound
        }
    }
}
