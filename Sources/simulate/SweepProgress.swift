import Foundation
import StrataCore

/// A sweep's progress on standard error: a bar with the rate and the time left when it is
/// a terminal; otherwise (a log file, CI) a plain line at every tenth of the points, so logs
/// stay short.
struct SweepProgress {
    let total: Int
    let isTerminal: Bool
    private let start = DispatchTime.now()
    private var lastDraw: UInt64 = 0
    private var lastTenth = 0

    init(total: Int, isTerminal: Bool = isatty(FileHandle.standardError.fileDescriptor) != 0) {
        self.total = total
        self.isTerminal = isTerminal
    }

    /// Seconds since the sweep started.
    var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }

    /// Reports that `done` of `total` points are finished; `counts` names them by kind.
    mutating func update(done: Int, counts: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        let seconds = elapsed
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let left = rate > 0 ? Double(total - done) / rate : 0
        if isTerminal {
            // Redraw at most ten times a second, and always at the end.
            guard done == total || now - lastDraw > 100_000_000 else { return }
            lastDraw = now
            let width = 24
            let filled = total > 0 ? width * done / total : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            Self.write("\r\u{1B}[K\(bar) \(done)/\(total)  \(counts)  \(String(format: "%.1f", rate)) points/s  ETA \(Self.clock(left))")
        } else {
            let tenth = total > 0 ? 10 * done / total : 10
            guard tenth > lastTenth else { return }
            lastTenth = tenth
            Self.write("sweep: \(done)/\(total) points (\(100 * done / max(total, 1))%), \(counts), "
                + "\(Self.clock(seconds)) elapsed, ETA \(Self.clock(left))\n")
        }
    }

    /// Ends the bar's line, so what follows starts on a fresh one.
    func finish() {
        if isTerminal { Self.write("\n") }
    }

    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// `0:42`, `12:03`, `1:02:03`.
    static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        let (hours, minutes, secs) = (whole / 3600, whole / 60 % 60, whole % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }
}
