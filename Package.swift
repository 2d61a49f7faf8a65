// swift-tools-version:6.2
import PackageDescription

// The same upcoming features Hummingbird enables: no dependency leaks between targets unannounced.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// Tests read HTTP types and store methods through the modules that re-export them.
let testSwiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "portcullis",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "portcullis", targets: ["portcullis"]),
        .library(name: "PortcullisCrypto", targets: ["PortcullisCrypto"]),
        .library(name: "PortcullisCore", targets: ["PortcullisCore"]),
        .library(name: "PortcullisPolicy", targets: ["PortcullisPolicy"]),
        .library(name: "PortcullisWebAuthn", targets: ["PortcullisWebAuthn"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CArgon2",
            pkgConfig: "libargon2",
            providers: [.apt(["libargon2-dev"])]
        ),
        .systemLibrary(
            name: "CQRencode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"])]
        ),
        .target(
            name: "PortcullisQR",
            dependencies: ["CQRencode"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PortcullisCrypto",
            dependencies: ["COpenSSL", "CArgon2"],
            swiftSettings: swiftSettings
        ),
        // WebAuthn ceremonies checked over bytes: no store, no HTTP, no clock; signatures through PortcullisCrypto.
        .target(
            name: "PortcullisWebAuthn",
            dependencies: ["PortcullisCrypto"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PortcullisPolicy",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PortcullisFuzzTargets",
            dependencies: ["PortcullisCore", "PortcullisCrypto", "PortcullisPolicy", "PortcullisServer", "PortcullisWebAuthn"],
            path: "Fuzz/Targets",
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "fuzz-jws", dependencies: ["PortcullisFuzzTargets"], path: "Fuzz/fuzz-jws", swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-policy", dependencies: ["PortcullisFuzzTargets"], path: "Fuzz/fuzz-policy", swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-request", dependencies: ["PortcullisFuzzTargets"], path: "Fuzz/fuzz-request", swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-json", dependencies: ["PortcullisFuzzTargets"], path: "Fuzz/fuzz-json", swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-webauthn", dependencies: ["PortcullisFuzzTargets"], path: "Fuzz/fuzz-webauthn", swiftSettings: swiftSettings),
        .executableTarget(
            name: "policy-bench",
            dependencies: ["PortcullisPolicy"],
            path: "Benchmarks/policy-bench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "token-mint",
            dependencies: ["PortcullisCore", "PortcullisCrypto"],
            path: "Benchmarks/token-mint",
            swiftSettings: swiftSettings
        ),
        // The lean-NIO /healthz ceiling of bench/scenarios/baselines.py: swift-nio only, no Portcullis code.
        .executableTarget(
            name: "nio-healthz",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks/nio-healthz",
            swiftSettings: swiftSettings
        ),
        // The lean token-check ceiling of bench/scenarios/verify.py: swift-nio and the signature check alone.
        .executableTarget(
            name: "nio-verify",
            dependencies: [
                "PortcullisCore", "PortcullisCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks/nio-verify",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PortcullisCore",
            dependencies: [
                "PortcullisCrypto",
                "PortcullisPolicy",
                "PortcullisWebAuthn",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PortcullisSQLite",
            dependencies: [
                "PortcullisCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The C API itself, for the one statement run on every token check (`DataVersion`).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PortcullisPostgres",
            dependencies: [
                "PortcullisCore",
                "PortcullisCrypto",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PortcullisServer",
            dependencies: [
                "PortcullisCore",
                "PortcullisCrypto",
                "PortcullisQR",
                "PortcullisPolicy",
                "PortcullisSQLite",
                "PortcullisPostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.embedInCode("openapi.yaml")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "portcullis",
            dependencies: [
                "PortcullisServer",
                "PortcullisSQLite",
                "PortcullisCore",
                "PortcullisCrypto",
                "PortcullisPolicy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PortcullisCryptoTests",
            dependencies: ["PortcullisCrypto"],
            resources: [.copy("Vectors")],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "PortcullisWebAuthnTests",
            dependencies: ["PortcullisWebAuthn", "PortcullisCrypto"],
            resources: [.copy("Vectors")],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "PortcullisPolicyTests",
            dependencies: ["PortcullisPolicy"],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "PortcullisCoreTests",
            dependencies: ["PortcullisCore", "PortcullisCrypto"],
            swiftSettings: testSwiftSettings
        ),
        // The shared store suite every backend runs (a library, not a test target: no Testing import).
        .target(
            name: "PortcullisStoreConformance",
            dependencies: ["PortcullisCore", "PortcullisCrypto"],
            path: "Tests/StoreConformance",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PortcullisSQLiteTests",
            dependencies: ["PortcullisSQLite", "PortcullisCore", "PortcullisStoreConformance", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "PortcullisServerTests",
            dependencies: [
                "PortcullisServer", "PortcullisSQLite", "PortcullisCore", "PortcullisCrypto", "PortcullisPolicy", "PortcullisFuzzTargets",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "PortcullisPostgresTests",
            dependencies: [
                "PortcullisPostgres", "PortcullisCore", "PortcullisStoreConformance", "PortcullisSQLite",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "PortcullisCLITests",
            dependencies: ["PortcullisCrypto", "PortcullisCore", "PortcullisSQLite"],
            swiftSettings: testSwiftSettings
        ),
    ]
)
