// swift-tools-version:6.1
// The JSON codec benchmark: the project's WireJSON (WireJSONEncoder/WireJSONDecoder over the strict
// JSONParser) against Foundation's JSONEncoder/JSONDecoder on the wire's real payloads. A package of
// its own so that the benchmark's dependencies stay out of the services' build:
// `./scripts/bench-codec.sh` runs it.
import PackageDescription

let package = Package(
    name: "HelpdeskSLABenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // The malloc interposer only (allocation counts, no system package). The default traits
        // also ask for the Swift 6.3 runtime interposer, for ARC counts this suite does not read,
        // from a package that is not available here.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        // The project itself; named, so that the product below is found whatever the checkout's folder is called.
        .package(name: "HelpdeskSLA", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "JSONCodec",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "HelpdeskModel", package: "HelpdeskSLA"),
            ],
            path: "Benchmarks/JSONCodec",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
