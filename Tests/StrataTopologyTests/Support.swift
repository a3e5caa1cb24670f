import Foundation
import StrataCore
@testable import StrataTopology

/// Paths and inputs the topology tests share.
enum Fixtures {
    /// The repository's `topologies/` folder, found from this file so tests run from any
    /// working directory.
    static let topologies = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("topologies")

    static func shipped(_ name: String) throws -> Cluster {
        try TopologyLoader.load(path: topologies.appendingPathComponent(name).path)
    }

    /// A valid two-unit cluster small enough to reason about by hand: 2 GPUs and 2 NICs per
    /// node, 2 nodes per unit, 4 nodes, 2 spines. `fabric` swaps the fabric's topology.
    static func smallCluster(fabric: String = "rail-optimized-fat-tree", nicOfGPU: String = "0 1") -> String {
        """
        <?xml version="1.0"?>
        <cluster name="small" version="1">
          <gpu-type id="g" name="Test GPU">
            <peak precision="bf16" dense="100TFLOPS"/>
            <peak precision="fp16" dense="100TFLOPS"/>
            <peak precision="tf32" dense="50TFLOPS"/>
            <memory capacity="16GiB" bandwidth="1TBps"/>
          </gpu-type>
          <node-type id="n">
            <gpus type="g" count="2"/>
            <nvswitch links-per-gpu="2" link-bandwidth="25GBps" latency="0.5us"/>
            <pcie bandwidth="32GBps" latency="1us"/>
            <nics count="2" bandwidth="200Gbps" latency="1us" nic-of-gpu="\(nicOfGPU)"/>
          </node-type>
          <nodes type="n" count="4"/>
          <fabric topology="\(fabric)" nodes-per-unit="2">
            <spine count="2" cables-per-leaf="1" bandwidth="200Gbps" latency="0.5us"/>
          </fabric>
        </cluster>
        """
    }
}
