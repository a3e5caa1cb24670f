/// Escapes text for SVG (XML) content and attribute values, so labels taken from user
/// input — strategy paths, overrides such as `name="<x>"` — cannot break the document.
public enum XMLEscaping {
    /// `&`, `<`, `>`, `"` and `'` as entities; control characters other than tab and
    /// newline (which XML 1.0 forbids) dropped.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
