import StrataEngine
import StrataGraph
import StrataPlot

/// The colour of each kind of work on every plot, so a timeline and a breakdown of the
/// same run read alike: compute passes in blues, oranges and purples, each kind of
/// communication its own hue, waiting in greys.
enum PlotColours {
    static let forward = Category("forward", colour: Palette.blue)
    static let backward = Category("backward", colour: Palette.orange)
    static let backwardInput = Category("backward (input grad)", colour: Palette.orange)
    static let backwardWeight = Category("backward (weight grad)", colour: Palette.brown)
    static let recompute = Category("recompute", colour: Palette.purple)
    static let optimizer = Category("optimizer", colour: Palette.navy)

    static func pass(_ pass: Pass) -> Category {
        switch pass {
        case .forward: forward
        case .backward: backward
        case .backwardInput: backwardInput
        case .backwardWeight: backwardWeight
        case .recompute: recompute
        case .optimizer: optimizer
        }
    }

    /// A communication stream's colour (compute is coloured by pass instead).
    static func stream(_ kind: StreamKind) -> Category {
        switch kind {
        case .compute: Category("compute", colour: Palette.blue)
        case .tensorParallel: Category("tp-comm", colour: Palette.red)
        case .contextParallel: Category("cp-comm", colour: Palette.teal)
        case .expertParallel: Category("ep-comm", colour: Palette.pink)
        case .pipeline: Category("pp-comm", colour: Palette.green)
        case .gradientSync: Category("grad-sync", colour: Palette.yellow)
        case .parameterGather: Category("param-gather", colour: Palette.olive)
        }
    }

    static let bubble = Category("pipeline bubble", colour: Palette.grey)
    static let idle = Category("idle", colour: Palette.lightGrey)
}
