/// One value of a query's row as SQLite stored it, so JSON and CSV output can keep
/// numbers numbers and text text.
public enum StoredValue: Hashable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    /// The value as `simulate query` prints it: integers and reals in full, NULL empty.
    public var text: String {
        switch self {
        case .null: ""
        case let .integer(number): String(number)
        case let .real(number): String(number)
        case let .text(text): text
        }
    }
}
