/// "Did you mean …?" suggestions for misspelled keywords, names and units.
public enum Spelling {
    /// The candidate closest to `word`, if it is close enough to be a plausible typo.
    ///
    /// A candidate that differs only in case wins (`gbps` → `Gbps`, the nearer in case).
    /// Otherwise the nearest by edit distance, allowed one edit for words under four
    /// characters and max(2, length / 3) for longer ones. Ties go to the candidate listed
    /// first, so suggestions are deterministic.
    public static func closest(to word: String, among candidates: [String]) -> String? {
        let sameLetters = candidates.filter { $0.lowercased() == word.lowercased() && $0 != word }
        if let best = sameLetters.min(by: { editDistance(word, $0) < editDistance(word, $1) }) { return best }
        let limit = word.count < 4 ? 1 : max(2, word.count / 3)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(word, candidate)
            if distance <= limit, distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps
    /// of two neighbouring characters each cost one, so `bf61` is one edit from `bf16`.
    ///
    /// - Complexity: O(*m* × *n*) time and memory.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}
