/// The version of Strata recorded with every stored run, so results can be traced to the
/// code that produced them.
public enum StrataVersion {
    public static let current = "0.1.0"
}
