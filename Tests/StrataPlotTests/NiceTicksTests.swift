import Testing
@testable import StrataPlot

/// Ticks fall on 1, 2 or 5 times a power of ten, cover the data, and print without
/// floating-point noise.
@Suite struct NiceTicksTests {
    @Test(arguments: [
        (0.0, 876.8, 10, [0.0, 100, 200, 300, 400, 500, 600, 700, 800, 900]),
        (0.0, 1.69e6, 6, [0.0, 200_000, 400_000, 600_000, 800_000, 1e6, 1.2e6, 1.4e6, 1.6e6, 1.8e6]),
        (0.0, 0.0087, 10, [0.0, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009]),
        (0.3, 0.7, 4, [0.3, 0.4, 0.5, 0.6, 0.7]),
        (-3.0, 7.0, 5, [-4.0, -2, 0, 2, 4, 6, 8]),
        (5.0, 5.0, 5, [2.0, 3, 4, 5, 6, 7, 8]),
    ])
    func ticksCoverTheRangeAtNiceSteps(low: Double, high: Double, count: Int, expected: [Double]) {
        #expect(NiceTicks.covering(low, high, count: count) == expected)
    }

    @Test func stepsAreOneTwoOrFiveTimesAPowerOfTen() {
        for exponent in -6...9 {
            for mantissa in stride(from: 1.0, to: 10.0, by: 0.37) {
                let span = mantissa * pow10(exponent)
                let step = NiceTicks.step(span: span, count: 5)
                let leading = step / pow10(Int((step.magnitude).log10Floor))
                #expect([1.0, 2.0, 5.0, 10.0].contains { abs($0 - leading) < 1e-9 }, "span \(span) gave step \(step)")
                let ticks = NiceTicks.covering(0, span, count: 5)
                #expect(ticks.first! <= 0 && ticks.last! >= span * (1 - 1e-12))
                #expect((3...12).contains(ticks.count), "span \(span): \(ticks.count) ticks")
            }
        }
    }

    @Test func labelsUseJustEnoughDecimals() {
        #expect(NiceTicks.decimals(forStep: 5) == 0)
        #expect(NiceTicks.decimals(forStep: 0.5) == 1)
        #expect(NiceTicks.decimals(forStep: 0.25) == 2)
        let scale = LinearScale(covering: [0, 0.0087], range: (0, 100), tickCount: 10)
        #expect(scale.ticks.map(scale.label) == ["0.000", "0.001", "0.002", "0.003", "0.004", "0.005", "0.006", "0.007", "0.008", "0.009"])
        let big = LinearScale(covering: [0, 25_000], range: (0, 100), tickCount: 5)
        #expect(big.ticks.map(big.label) == ["0", "5,000", "10,000", "15,000", "20,000", "25,000"])
    }

    @Test func siLabelsTakeEachTicksOwnPrefix() {
        let scale = LinearScale(covering: [0, 1.69e6], range: (0, 100), tickCount: 6, format: .si)
        #expect(scale.ticks.map(scale.label) == ["0", "200k", "400k", "600k", "800k", "1M", "1.2M", "1.4M", "1.6M", "1.8M"])
    }

    @Test func logScaleTicksArePowersOfItsBase() {
        let scale = LogScale(covering: [64, 96, 512], range: (0, 300), base: 2)
        #expect(scale.ticks == [64, 128, 256, 512])
        #expect(scale.ticks.map(scale.label) == ["64", "128", "256", "512"])
        #expect(scale.position(64) == 0 && scale.position(512) == 300)
        #expect(abs(scale.position(128) - 100) < 1e-9)
        let single = LogScale(covering: [8], range: (0, 100), base: 2)
        #expect(single.ticks == [4, 8, 16])
    }

    @Test func linearScaleMapsDomainOntoRange() {
        let scale = LinearScale(covering: [0, 90], range: (500, 100), tickCount: 5)
        #expect(scale.domain == 0...100)
        #expect(scale.position(0) == 500 && scale.position(100) == 100 && scale.position(50) == 300)
    }

    private func pow10(_ exponent: Int) -> Double { (0..<abs(exponent)).reduce(1.0) { value, _ in exponent < 0 ? value / 10 : value * 10 } }
}

extension Double {
    fileprivate var log10Floor: Double {
        var value = self, exponent = 0.0
        while value >= 10 { value /= 10; exponent += 1 }
        while value < 1 { value *= 10; exponent -= 1 }
        return exponent
    }
}
