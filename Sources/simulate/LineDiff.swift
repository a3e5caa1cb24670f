/// The lines that differ between two texts, as hunks of removed and added lines without
/// context: the compact form `simulate query --compare` shows of two strategy files.
///
/// The alignment is a longest common subsequence of lines (Hunt and McIlroy, 1976, by
/// dynamic programming), so lines both texts share are never reported.
///
/// - Complexity: O(*n* · *m*) time and memory for texts of *n* and *m* lines; strategy
///   files are tens to hundreds of lines.
struct LineDiff: Hashable {
    /// A run of changed lines: `removed` from the old text starting at line `oldLine`
    /// (1-based), `added` to the new one starting at `newLine`.
    struct Hunk: Hashable {
        var oldLine: Int
        var removed: [String]
        var newLine: Int
        var added: [String]

        /// `@@ -12,2 +12,3 @@` (unified diff's header; a count of 1 is left out).
        var header: String {
            func range(_ start: Int, _ count: Int) -> String { count == 1 ? "\(start)" : "\(start),\(count)" }
            return "@@ -\(range(oldLine, removed.count)) +\(range(newLine, added.count)) @@"
        }
    }

    var hunks: [Hunk]

    init(old: String, new: String) {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // lcs[i][j]: length of the longest common subsequence of a[i...] and b[j...].
        var lcs = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var hunks: [Hunk] = []
        var current: Hunk?
        var i = 0, j = 0
        func flush() {
            if let hunk = current { hunks.append(hunk) }
            current = nil
        }
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                flush()
                i += 1
                j += 1
            } else if j < b.count, i == a.count || lcs[i][j + 1] >= lcs[i + 1][j] {
                if current == nil { current = Hunk(oldLine: i + 1, removed: [], newLine: j + 1, added: []) }
                current!.added.append(b[j])
                j += 1
            } else {
                if current == nil { current = Hunk(oldLine: i + 1, removed: [], newLine: j + 1, added: []) }
                current!.removed.append(a[i])
                i += 1
            }
        }
        flush()
        self.hunks = hunks
    }

    /// The hunks as text lines (`@@ … @@`, `- old`, `+ new`), at most `limit` lines, the
    /// rest summarised.
    func lines(limit: Int = 40) -> [String] {
        var out: [String] = []
        for hunk in hunks {
            out.append(hunk.header)
            out += hunk.removed.map { "- " + $0 }
            out += hunk.added.map { "+ " + $0 }
        }
        guard out.count > limit else { return out }
        return Array(out.prefix(limit)) + ["… \(out.count - limit) more lines"]
    }
}
