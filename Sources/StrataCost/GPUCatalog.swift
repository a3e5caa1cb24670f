import Foundation
import StrataCore
import StrataTopology

/// Finds a GPU's datasheet figures by its id in the topology files of a folder, for the
/// measured GPU of a transferred cost model (whose tables hold timings, not peaks).
public enum GPUCatalog {
    /// A GPU type and the nominal per-GPU NVLink bandwidth of the first topology that has it.
    public struct Entry: Sendable {
        public var spec: GPUSpec
        public var nvlink: Bandwidth?
        /// The topology file it came from.
        public var topology: String
    }

    /// The first topology in `folder` (smallest file first, so a one-node file is read
    /// before a superpod) whose GPUs are of type `id`; files that fail to load are skipped.
    public static func find(_ id: String, inTopologiesAt folder: String) -> Entry? {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".xml") }
        let paths = names.map { (folder as NSString).appendingPathComponent($0) }
        let sized = paths.map { path in
            (path, ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? .max)
        }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        for (path, _) in sized {
            guard let cluster = try? TopologyLoader.load(path: path), let gpu = cluster.gpus.first, gpu.spec.id == id else { continue }
            return Entry(spec: gpu.spec, nvlink: cluster.links.first { $0.kind == .nvlink }?.bandwidth, topology: path)
        }
        return nil
    }
}
