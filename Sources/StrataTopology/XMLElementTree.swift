/// An element of a topology file copied out of libxml2's tree into Swift values.
///
/// The loader copies the validated document into these right away so that every libxml2
/// object can be freed in the function that made it, and so that the code that interprets
/// the topology is plain Swift that never touches a C pointer.
struct XMLElementTree: Sendable {
    /// The element's local name, such as `nics`.
    var name: String
    /// The 1-based line of the element's start tag, for diagnostics.
    var line: Int
    /// Attribute values by name, as written (the schema has already checked their shape).
    var attributes: [String: String]
    /// Child elements in document order; text, comments and processing instructions are dropped.
    var children: [XMLElementTree]

    /// The children called `name`, in document order.
    func children(named name: String) -> [XMLElementTree] {
        children.filter { $0.name == name }
    }

    /// The first child called `name`, if any.
    func child(named name: String) -> XMLElementTree? {
        children.first { $0.name == name }
    }
}
