import StrataCore

/// A GPU model with its datasheet figures: what a roofline needs and what memory must fit in.
public struct GPUSpec: Hashable, Sendable {
    /// The short id topology files and trace folders use, such as `h100-sxm`.
    public var id: String
    /// The marketing name, such as `NVIDIA H100 SXM5 80GB HBM3`.
    public var name: String
    /// Dense (not 2:4-sparse) peak throughput per precision. A precision the GPU cannot
    /// compute in (fp8 on an A100) is absent.
    public var peak: [Precision: FlopRate]
    public var memoryCapacity: ByteCount
    public var memoryBandwidth: Bandwidth

    public init(id: String, name: String, peak: [Precision: FlopRate], memoryCapacity: ByteCount, memoryBandwidth: Bandwidth) {
        self.id = id
        self.name = name
        self.peak = peak
        self.memoryCapacity = memoryCapacity
        self.memoryBandwidth = memoryBandwidth
    }
}

/// Something links attach to: a GPU, a switch chip, a NIC.
public struct Device: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case gpu
        case nvswitch
        case pcieSwitch
        case nic
        /// A network switch in tier `tier` of the fabric, counted from the leaves (0).
        case networkSwitch(tier: Int)
    }

    public var id: Int
    public var kind: Kind
    /// A readable path such as `node3/gpu5` or `spine/2`, for traces and link reports.
    public var name: String
    /// The node the device sits in; `nil` for fabric switches.
    public var node: Int?

    public init(id: Int, kind: Kind, name: String, node: Int?) {
        self.id = id
        self.kind = kind
        self.name = name
        self.node = node
    }
}

/// One direction of a physical connection. A full-duplex cable is two `Link`s, because
/// traffic in one direction does not slow the other.
public struct Link: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case nvlink, pcie, network
    }

    public var id: Int
    public var from: Int
    public var to: Int
    public var kind: Kind
    /// Bandwidth in this direction. For NVLink to an NVSwitch this is the GPU's aggregate
    /// over all its links (18 × 25 GB/s on an H100), since NCCL stripes over all of them.
    public var bandwidth: Bandwidth
    /// Time for the first byte to cross the link.
    public var latency: SimTime

    public init(id: Int, from: Int, to: Int, kind: Kind, bandwidth: Bandwidth, latency: SimTime) {
        self.id = id
        self.from = from
        self.to = to
        self.kind = kind
        self.bandwidth = bandwidth
        self.latency = latency
    }
}

/// One GPU of the cluster in the order ranks are assigned: node-major, then local index.
public struct GPU: Hashable, Sendable {
    /// Global index, 0 ..< cluster.gpus.count.
    public var index: Int
    public var node: Int
    public var localIndex: Int
    /// The `Device` this GPU is in the link graph.
    public var device: Int
    public var spec: GPUSpec

    public init(index: Int, node: Int, localIndex: Int, device: Int, spec: GPUSpec) {
        self.index = index
        self.node = node
        self.localIndex = localIndex
        self.device = device
        self.spec = spec
    }
}

/// A GPU cluster as a directed graph of devices and links, loaded from topology XML.
///
/// The engine and cost models see only this type; libxml2 never leaves this module.
public struct Cluster: Sendable {
    public var name: String
    public var gpuTypes: [GPUSpec]
    public var devices: [Device]
    public var links: [Link]
    public var gpus: [GPU]
    public var nodeCount: Int
    /// The topology's routing rules, which give the link ids between any two GPUs. Routes
    /// are computed on demand from the cluster's structure rather than stored, so this
    /// stays small at 16,384 GPUs; see `Routing` and docs/topology.md.
    var routes: Routing

    public init(name: String, gpuTypes: [GPUSpec], devices: [Device], links: [Link], gpus: [GPU], nodeCount: Int, routes: Routing) {
        self.name = name
        self.gpuTypes = gpuTypes
        self.devices = devices
        self.links = links
        self.gpus = gpus
        self.nodeCount = nodeCount
        self.routes = routes
    }

    /// The links a message from GPU `source` to GPU `destination` crosses, in order.
    /// Empty when they are the same GPU.
    public func route(fromGPU source: Int, toGPU destination: Int) -> [Link] {
        routes.path(from: gpus[source], to: gpus[destination], in: self).map { links[$0] }
    }
}
