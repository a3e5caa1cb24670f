import Foundation

/// Human-readable renderings of quantities for summaries and tables. Deterministic:
/// fixed precision, no locale.
public enum Format {
    public static func duration(_ seconds: Double) -> String {
        let magnitude = abs(seconds)
        if magnitude >= 1 { return fixed(seconds, 3) + " s" }
        if magnitude >= 1e-3 { return fixed(seconds * 1e3, 3) + " ms" }
        if magnitude >= 1e-6 { return fixed(seconds * 1e6, 3) + " us" }
        return fixed(seconds * 1e9, 3) + " ns"
    }

    /// Bytes in binary units (GiB), the way GPU memory is reported by tools users know.
    public static func bytes(_ bytes: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = bytes, index = 0
        while abs(value) >= 1024, index < units.count - 1 {
            value /= 1024
            index += 1
        }
        return index == 0 ? "\(Int(value)) B" : fixed(value, 2) + " " + units[index]
    }

    public static func bandwidth(_ bytesPerSecond: Double) -> String {
        scaled(bytesPerSecond, units: ["B/s", "KB/s", "MB/s", "GB/s", "TB/s"])
    }

    public static func flopRate(_ flopsPerSecond: Double) -> String {
        scaled(flopsPerSecond, units: ["FLOP/s", "KFLOP/s", "MFLOP/s", "GFLOP/s", "TFLOP/s", "PFLOP/s", "EFLOP/s"])
    }

    public static func flops(_ flops: Double) -> String {
        scaled(flops, units: ["FLOP", "KFLOP", "MFLOP", "GFLOP", "TFLOP", "PFLOP", "EFLOP", "ZFLOP"])
    }

    /// A count with thousands grouped by commas: 1,234,567.
    public static func grouped(_ value: Double) -> String {
        let digits = String(Int64(value.rounded()))
        var out = ""
        for (offset, character) in digits.reversed().enumerated() {
            if offset > 0, offset % 3 == 0, character != "-" { out.append(",") }
            out.append(character)
        }
        return String(out.reversed())
    }

    public static func percent(_ fraction: Double) -> String { fixed(fraction * 100, 1) + " %" }

    public static func fixed(_ value: Double, _ digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }

    private static func scaled(_ value: Double, units: [String]) -> String {
        var value = value, index = 0
        while abs(value) >= 1000, index < units.count - 1 {
            value /= 1000
            index += 1
        }
        return fixed(value, 2) + " " + units[index]
    }
}
