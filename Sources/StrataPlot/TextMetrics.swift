/// Estimated text extents, for laying out labels without a font engine: the renderer's
/// font is unknown at build time, so widths are over-estimated from the widest common
/// sans-serif, DejaVu Sans (what Linux substitutes for Helvetica): about 0.62 em for lower
/// case, 0.7 em for digits and capitals — labels placed with this do not collide, at the
/// price of some slack in narrower fonts.
public enum TextMetrics {
    /// Width in pixels of `text` at `size` pixels.
    public static func width(_ text: String, size: Double) -> Double {
        var ems = 0.0
        for character in text {
            if character == " " || character == "." || character == "," || character == ":" || character == "·"
                || character == "i" || character == "l" || character == "j" || character == "t" || character == "f"
                || character == "(" || character == ")" || character == "[" || character == "]" || character == "|" {
                ems += 0.36
            } else if character == "m" || character == "w" || character == "M" || character == "W" || character == "%" {
                ems += 0.98
            } else if character.isUppercase || character.isNumber {
                ems += 0.7
            } else {
                ems += 0.62
            }
        }
        return ems * size
    }

    /// `text` shortened with an ellipsis to fit `maxWidth`.
    public static func truncated(_ text: String, size: Double, maxWidth: Double) -> String {
        guard width(text, size: size) > maxWidth else { return text }
        var characters = Array(text)
        while !characters.isEmpty, width(String(characters) + "…", size: size) > maxWidth { characters.removeLast() }
        return String(characters) + "…"
    }

    /// `text` broken at spaces into lines no wider than `maxWidth` (a word wider than that
    /// gets a line of its own).
    public static func wrapped(_ text: String, size: Double, maxWidth: Double) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let candidate = line.isEmpty ? String(word) : line + " " + word
            if !line.isEmpty, width(candidate, size: size) > maxWidth {
                lines.append(line)
                line = String(word)
            } else {
                line = candidate
            }
        }
        if !line.isEmpty || lines.isEmpty { lines.append(line) }
        return lines
    }
}
