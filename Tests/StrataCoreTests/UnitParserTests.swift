import Testing
@testable import StrataCore

@Suite struct UnitParserTests {
    @Test(arguments: [
        ("900GBps", QuantityKind.bandwidth, 900e9),
        ("400Gbps", .bandwidth, 50e9),
        ("1.2us", .time, 1.2e-6),
        ("80GiB", .bytes, 80 * 1_073_741_824),
        ("989TFLOPS", .flopRate, 989e12),
        ("3.35TBps", .bandwidth, 3.35e12),
        ("0.5ms", .time, 5e-4),
    ])
    func parsesValuesWithUnits(text: String, kind: QuantityKind, expected: Double) throws {
        let value = try UnitParser.parse(text, as: kind)
        #expect(abs(value - expected) <= expected * 1e-12)
    }

    @Test func rejectsAMissingUnit() {
        #expect(throws: QuantityError.missingUnit(value: "400", kind: .bandwidth)) {
            try UnitParser.parse("400", as: .bandwidth)
        }
    }

    @Test func suggestsTheClosestUnit() {
        #expect(throws: QuantityError.unknownUnit(value: "400Gbit", unit: "Gbit", kind: .bandwidth, suggestion: "Gbps")) {
            try UnitParser.parse("400Gbit", as: .bandwidth)
        }
        #expect(throws: QuantityError.unknownUnit(value: "400gbps", unit: "gbps", kind: .bandwidth, suggestion: "Gbps")) {
            try UnitParser.parse("400gbps", as: .bandwidth)
        }
    }

    @Test func unknownUnitMessageNamesTheRuleAndTheFix() {
        let error = QuantityError.unknownUnit(value: "2Gbit", unit: "Gbit", kind: .bandwidth, suggestion: "Gbps")
        #expect(error.message == "'2Gbit' has the unknown bandwidth unit 'Gbit'; did you mean 'Gbps'? units are Bps KBps MBps GBps TBps GiBps bps Kbps Mbps Gbps Tbps")
    }

    @Test func rejectsMalformedAndNegativeNumbers() {
        #expect(throws: QuantityError.malformedNumber(value: "fastGBps", kind: .bandwidth)) {
            try UnitParser.parse("fastGBps", as: .bandwidth)
        }
        #expect(throws: QuantityError.negative(value: "-1us", kind: .time)) {
            try UnitParser.parse("-1us", as: .time)
        }
    }
}

@Suite struct SimTimeTests {
    @Test func roundsSecondsToPicoseconds() {
        #expect(SimTime(seconds: 1.5e-6).picoseconds == 1_500_000)
        #expect(SimTime(seconds: 0.1).picoseconds == 100_000_000_000)
        #expect((SimTime(seconds: 1) + SimTime(seconds: 2)).seconds == 3)
    }
}
