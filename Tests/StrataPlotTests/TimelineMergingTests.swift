import Testing
@testable import StrataPlot

/// Thousands of sub-pixel tasks become a few rectangles, runs of one kind keep their
/// colour, and wide tasks are never merged away.
@Suite struct TimelineMergingTests {
    typealias Span = TimelineChart.Span

    @Test func runsOfOneCategoryMergeAndKeepTheirColour() {
        // 1,000 tiny forwards then 1,000 tiny backwards, 1 px = 1 unit.
        func tiny(_ index: Int, from origin: Double, category: Int) -> Span {
            let start: Double = origin + Double(index) * 0.01
            return Span(start: start, end: start + 0.009, category: category, name: "task \(index)")
        }
        let forwards: [Span] = (0..<1_000).map { tiny($0, from: 0, category: 0) }
        let backwards: [Span] = (0..<1_000).map { tiny($0, from: 10, category: 1) }
        let spans = forwards + backwards
        let blocks = TimelineChart.blocks(spans.reversed(), position: { $0 })
        #expect(blocks.map(\.category) == [0, 1])
        #expect(blocks.map(\.count) == [1_000, 1_000])
        #expect(abs(blocks[0].x1 - 9.999) < 1e-9 && blocks[1].x0 == 10)
    }

    @Test func aLoneSubPixelSpanJoinsItsNeighbourButWideSpansStay() {
        let spans = [
            Span(start: 0, end: 50, category: 0, name: "wide"),
            Span(start: 50.2, end: 50.5, category: 1, name: "tiny"),
            Span(start: 52, end: 80, category: 1, name: "gap of 1.5 px"),
        ]
        let blocks = TimelineChart.blocks(spans, position: { $0 })
        #expect(blocks.map(\.category) == [0, 1])
        #expect(blocks.map(\.count) == [2, 1])
        #expect(blocks[0].x1 == 50.5)
    }

    @Test func manyAlternatingTinySpansStayFewPerPixel() {
        var random = 0x2545F4914F6CDD1D as UInt64
        let spans = (0..<20_000).map { index -> Span in
            random = random &* 6364136223846793005 &+ 1442695040888963407
            return Span(start: Double(index) * 0.05, end: Double(index) * 0.05 + 0.04, category: Int(random >> 62), name: "t")
        }
        let blocks = TimelineChart.blocks(spans, position: { $0 })
        #expect(blocks.count <= 1_000, "20,000 tasks over 1,000 px gave \(blocks.count) rectangles")
        #expect(blocks.reduce(0) { $0 + $1.count } == 20_000)
    }
}
