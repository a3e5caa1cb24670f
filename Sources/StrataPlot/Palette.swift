/// Colours for plots: Tableau 10 (Stone, 2016), distinguishable by most colour-blind
/// readers and on white, extended with two darker tones for more categories, and greys
/// for "nothing happening" (idle) and for results that are out of the running.
public enum Palette {
    public static let blue = "#4e79a7"
    public static let orange = "#f28e2b"
    public static let red = "#e15759"
    public static let teal = "#76b7b2"
    public static let green = "#59a14f"
    public static let yellow = "#edc948"
    public static let purple = "#b07aa1"
    public static let pink = "#ff9da7"
    public static let brown = "#9c755f"
    public static let grey = "#bab0ac"
    public static let navy = "#2e4a6b"
    public static let olive = "#8c8c3a"
    /// Idle time and the like: visible, never mistaken for work.
    public static let lightGrey = "#e4e1de"
    /// Text, axes and the front line.
    public static let ink = "#222222"
    /// Tick labels, secondary text.
    public static let mutedInk = "#555555"
    /// Grid lines.
    public static let grid = "#e8e8e8"
}
