// swift-tools-version:6.1
// Strata: a simulator of distributed LLM training. The targets follow the stages of the
// pipeline in docs/architecture.md; each may import only the targets listed there.
import PackageDescription

let package = Package(
    name: "strata",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "simulate", targets: ["simulate"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        .target(name: "StrataCore"),
        .target(name: "StrataDSL", dependencies: ["StrataCore"]),
        .target(name: "StrataModel", dependencies: ["StrataCore"]),
        .target(
            name: "StrataTopology",
            dependencies: ["StrataCore", "CLibXML2"],
            resources: [.copy("Schema/topology-v1.xsd")]
        ),
        .target(name: "StrataCost", dependencies: ["StrataCore", "StrataModel", "StrataTopology"]),
        .target(
            name: "StrataGraph",
            dependencies: ["StrataCore", "StrataDSL", "StrataModel", "StrataTopology"]
        ),
        .target(
            name: "StrataEngine",
            dependencies: [
                "StrataCore", "StrataModel", "StrataGraph", "StrataCost", "StrataTopology",
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "StrataStore",
            dependencies: ["StrataCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(name: "StrataPlot"),
        .executableTarget(
            name: "simulate",
            dependencies: [
                "StrataCore", "StrataDSL", "StrataModel", "StrataTopology", "StrataGraph",
                "StrataCost", "StrataEngine", "StrataStore", "StrataPlot",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "StrataCoreTests", dependencies: ["StrataCore"]),
        .testTarget(name: "StrataDSLTests", dependencies: ["StrataDSL"]),
        .testTarget(name: "StrataTopologyTests", dependencies: ["StrataTopology"]),
        .testTarget(
            name: "StrataEngineTests",
            dependencies: ["StrataEngine", "StrataGraph", "StrataCost", "StrataModel", "StrataDSL"]
        ),
        .testTarget(name: "StrataStoreTests", dependencies: ["StrataStore", "StrataCore", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "StrataPlotTests", dependencies: ["StrataPlot"]),
        .testTarget(name: "StrataCostTests", dependencies: ["StrataCost", "StrataModel", "StrataCore", "StrataTopology"]),
        .testTarget(name: "StrataGraphTests", dependencies: ["StrataGraph", "StrataModel", "StrataCore", "StrataDSL", "StrataTopology"]),
        .testTarget(
            name: "SimulateTests",
            // GRDB only to set up databases the CLI must refuse (newer schema, locked).
            dependencies: ["simulate", .product(name: "GRDB", package: "GRDB.swift")],
            exclude: ["Golden"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
