// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "HelpdeskSLA",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "helpdesk", targets: ["helpdesk"]),
        // For the codec benchmark (Benchmarks/), a package of its own.
        .library(name: "HelpdeskModel", targets: ["HelpdeskModel"]),
        .executable(name: "intake", targets: ["intake"]),
        .executable(name: "classifier", targets: ["classifier"]),
        .executable(name: "sla-timer", targets: ["sla-timer"]),
        .executable(name: "escalation", targets: ["escalation"]),
        .executable(name: "notifier", targets: ["notifier"]),
        .executable(name: "history", targets: ["history"]),
        .executable(name: "forecaster", targets: ["forecaster"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        // Already resolved through Hummingbird; named for the connection guard's channel handler.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        // Already built for HummingbirdTesting and NIOSSL: the notifier's webhooks and their HMAC.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // The history store's two databases: SQLite embedded, PostgreSQL for compose.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // The web console's pages, rendered on the server.
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // Already resolved through async-http-client and postgres-nio: PostgreSQL's TLS settings.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // librdkafka from Debian's librdkafka-dev (Ubuntu's librdkafka-dev in the Docker image).
        .systemLibrary(
            name: "CRdKafka",
            path: "Shared/CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // libcurl from Debian's libcurl4-openssl-dev: the notifier's SMTP client.
        .systemLibrary(
            name: "CCurl",
            path: "Shared/CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // Pure domain model: no I/O.
        .target(
            name: "HelpdeskModel",
            dependencies: [.product(name: "Yams", package: "Yams")],
            path: "Shared/HelpdeskModel",
            resources: [.embedInCode("Classification/classifier-rules.yaml"), .embedInCode("Classification/classifier-model.yaml")],
            // Optimized in debug builds too: the tests fit the classifier (267 s unoptimized,
            // 17 s optimized) and check business-time properties by the thousand (docs/history.md).
            swiftSettings: strict + [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        // Broker abstraction and its in-memory double.
        .target(name: "MessageBus", path: "Shared/MessageBus", swiftSettings: strict),
        // The only place that calls rd_kafka_*.
        .target(
            name: "KafkaTransport",
            dependencies: [
                "CRdKafka", "MessageBus",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            path: "Shared/KafkaTransport",
            swiftSettings: strict
        ),
        // What every service executable shares: config, logging, metrics, health, the processing loop.
        .target(
            name: "ServiceRuntime",
            dependencies: [
                "MessageBus", "KafkaTransport", "HelpdeskModel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
            ],
            path: "Shared/ServiceRuntime",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "helpdesk",
            dependencies: [
                "HelpdeskModel", "MessageBus", "KafkaTransport", "ServiceRuntime", "SLATimerService", "HistoryStore", "HistoryService",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/helpdesk",
            swiftSettings: strict
        ),
        .target(
            name: "IntakeService",
            dependencies: [
                "HelpdeskModel", "MessageBus", "ServiceRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Services/intake/Logic",
            // Served at /openapi.yaml as it is; docs/openapi.yaml links to it.
            resources: [.embedInCode("openapi.yaml")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "intake",
            dependencies: ["IntakeService", "ServiceRuntime", "HelpdeskModel"],
            path: "Services/intake/Main",
            swiftSettings: strict
        ),
        .target(
            name: "ClassifierService",
            dependencies: [
                "HelpdeskModel", "MessageBus", "ServiceRuntime",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            path: "Services/classifier/Logic",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "classifier",
            dependencies: ["ClassifierService", "ServiceRuntime", "HelpdeskModel"],
            path: "Services/classifier/Main",
            swiftSettings: strict
        ),
        .target(
            name: "SLATimerService",
            dependencies: [
                "HelpdeskModel", "MessageBus", "ServiceRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            path: "Services/sla-timer/Logic",
            // Served at /openapi.yaml as it is; docs/sla-timer.openapi.yaml links to it.
            resources: [.embedInCode("openapi.yaml")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "sla-timer",
            dependencies: ["SLATimerService", "ServiceRuntime", "HelpdeskModel"],
            path: "Services/sla-timer/Main",
            swiftSettings: strict
        ),
        .target(
            name: "EscalationService",
            dependencies: [
                "HelpdeskModel", "MessageBus", "ServiceRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Services/escalation/Logic",
            // Served at /openapi.yaml as it is; docs/escalation.openapi.yaml links to it.
            resources: [.embedInCode("openapi.yaml")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "escalation",
            dependencies: ["EscalationService", "ServiceRuntime", "HelpdeskModel"],
            path: "Services/escalation/Main",
            swiftSettings: strict
        ),
        .target(
            name: "NotifierService",
            dependencies: [
                "HelpdeskModel", "MessageBus", "ServiceRuntime", "CCurl",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Services/notifier/Logic",
            // Served at /openapi.yaml as it is; docs/notifier.openapi.yaml links to it.
            resources: [.embedInCode("openapi.yaml")],
            swiftSettings: strict
        ),
        .target(
            name: "ForecasterService",
            dependencies: [
                "HelpdeskModel", "MessageBus", "ServiceRuntime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/forecaster/Logic",
            // Served at /openapi.yaml as it is; docs/forecaster.openapi.yaml is the same text.
            resources: [.embedInCode("openapi.yaml")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "forecaster",
            dependencies: ["ForecasterService", "ServiceRuntime", "HelpdeskModel"],
            path: "Services/forecaster/Main",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "notifier",
            dependencies: ["NotifierService", "ServiceRuntime", "HelpdeskModel"],
            path: "Services/notifier/Main",
            swiftSettings: strict
        ),
        // The history store: one repository protocol, on SQLite (GRDB) and on PostgreSQL.
        .target(
            name: "HistoryStore",
            dependencies: [
                "HelpdeskModel",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/HistoryStore",
            swiftSettings: strict
        ),
        .target(
            name: "HistoryService",
            dependencies: [
                "HelpdeskModel", "HistoryStore", "MessageBus", "ServiceRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Services/history/Logic",
            // Served at /openapi.yaml as it is; docs/history.openapi.yaml links to it. The web
            // console's templates, script and style sheet are compiled in: nothing to install.
            resources: [
                .embedInCode("openapi.yaml"),
                .embedInCode("Console/Assets/console.css"), .embedInCode("Console/Assets/console.js"),
                .embedInCode("Console/Templates/layout.mustache"), .embedInCode("Console/Templates/sign-in.mustache"),
                .embedInCode("Console/Templates/row.mustache"), .embedInCode("Console/Templates/rows.mustache"),
                .embedInCode("Console/Templates/board.mustache"), .embedInCode("Console/Templates/desk.mustache"),
                .embedInCode("Console/Templates/ticket.mustache"), .embedInCode("Console/Templates/reports.mustache"),
                .embedInCode("Console/Templates/error.mustache"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "history",
            dependencies: ["HistoryService", "ServiceRuntime", "HelpdeskModel"],
            path: "Services/history/Main",
            swiftSettings: strict
        ),
        // Fixtures the service test suites share.
        .target(
            name: "TestSupport",
            dependencies: [
                "HelpdeskModel", "MessageBus", "ServiceRuntime", .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "HelpdeskModelTests",
            dependencies: ["HelpdeskModel", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MessageBusContractTests",
            dependencies: ["MessageBus", "KafkaTransport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ServiceRuntimeTests",
            dependencies: [
                "ServiceRuntime", "MessageBus", "HelpdeskModel", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "IntakeServiceTests",
            dependencies: [
                "IntakeService", "HelpdeskModel", "MessageBus", "ServiceRuntime", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ClassifierServiceTests",
            dependencies: ["ClassifierService", "HelpdeskModel", "MessageBus", "ServiceRuntime"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SLATimerServiceTests",
            dependencies: [
                "SLATimerService", "HelpdeskModel", "MessageBus", "ServiceRuntime", "TestSupport", "KafkaTransport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EscalationServiceTests",
            dependencies: [
                "EscalationService", "HelpdeskModel", "MessageBus", "ServiceRuntime", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NotifierServiceTests",
            dependencies: [
                "NotifierService", "HelpdeskModel", "MessageBus", "ServiceRuntime", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ForecasterServiceTests",
            dependencies: ["ForecasterService", "HelpdeskModel", "MessageBus", "ServiceRuntime", "TestSupport",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HistoryTests",
            dependencies: [
                "HistoryStore", "HistoryService", "HelpdeskModel", "MessageBus", "ServiceRuntime", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ProcessTests",
            dependencies: [
                "MessageBus", "HelpdeskModel", "KafkaTransport", "TestSupport", "HistoryStore", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
    ]
)
