// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Ballast",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ballast", targets: ["BallastCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // libsodium, found through pkg-config; Debian's libsodium-dev provides it.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // BLAKE2b-256 of many one-block messages at once in SIMD lanes (AVX2 / AVX-512 chosen at
        // run time, portable C otherwise): the state tree's node pairs.
        .target(name: "CBlake2Lanes"),
        // Ed25519, BLAKE2b-256, addresses: the only cryptography in the system.
        .target(name: "BallastCrypto", dependencies: ["CSodium", "CBlake2Lanes", "Codec"]),
        // The canonical binary encoding of everything signed or hashed.
        .target(name: "Codec"),
        // The deterministic state machine. Pure: no IO, clocks, threads or randomness.
        .target(name: "Ledger", dependencies: ["BallastCrypto", "Codec"]),
        // The node's durable store: blocks, receipts, history, safety state (SQLite), snapshots.
        .target(name: "Storage", dependencies: ["BallastCrypto", "Codec", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift")]),
        // Pending transactions: admission checks, parallel verification, reaping for proposals.
        .target(name: "Mempool", dependencies: ["BallastCrypto", "Codec", "Ledger"]),
        // A validator process: wires the pure cores to storage, network, mempool and the HTTP API.
        .target(
            name: "Node",
            dependencies: [
                "BallastCrypto", "Codec", "Ledger", "Consensus", "Storage", "Mempool", "Wallet", "PeerNetwork",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Key files on disk for the wallet commands.
        .target(name: "Wallet", dependencies: ["BallastCrypto"]),
        // The wallet's side of the HTTP API: a client of a node and the tables `ballast query` prints.
        .target(name: "WalletClient", dependencies: ["Node", "Ledger", "BallastCrypto"]),
        // 2-chain HotStuff (Jolteon) consensus. Pure: inputs in, effects out.
        .target(name: "Consensus", dependencies: ["BallastCrypto", "Codec"]),
        // Deterministic network simulator with Byzantine replicas, for tests, `ballast sim` and benchmarks.
        .target(name: "Simulator", dependencies: ["Consensus", "BallastCrypto", "Codec"]),
        // Validator peer network: framed TCP over SwiftNIO, key-proving handshake, peer manager.
        .target(
            name: "PeerNetwork",
            dependencies: [
                "BallastCrypto", "Codec",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Local multi-validator testnets: keys, genesis and homes, node processes, status.
        .target(
            name: "Cluster",
            dependencies: [
                "BallastCrypto", "Codec", "Ledger", "Node", "Simulator", "Storage", "Wallet", "WalletClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // The `ballast` command: wallet, offline signing, benchmarks.
        .executableTarget(
            name: "BallastCLI",
            dependencies: [
                "CSodium", "BallastCrypto", "Codec", "Ledger", "Mempool", "Wallet", "WalletClient", "Node", "Cluster",
                .product(name: "Logging", package: "swift-log"), "Consensus", "Simulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // A one-validator node serving the real HTTP API on loopback, for tests.
        .target(
            name: "NodeTestSupport",
            dependencies: [
                "Node", "Ledger", "BallastCrypto", "Storage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Seeded randomness and sizing for tests and simulations.
        .target(name: "TestSupport", dependencies: ["Simulator"]),
        // A raw TCP peer that sends tests' misbehaving frames and handshakes to a validator.
        .target(
            name: "PeerTestSupport",
            dependencies: [
                "PeerNetwork", "BallastCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "BallastCryptoTests", dependencies: ["BallastCrypto", "Codec"]),
        .testTarget(name: "CodecTests", dependencies: ["Codec", "TestSupport"]),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "BallastCrypto", "Codec", "TestSupport"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "BallastCrypto", "Codec", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "MempoolTests", dependencies: ["Mempool", "Ledger", "BallastCrypto", "TestSupport"]),
        .testTarget(
            name: "NodeTests",
            dependencies: [
                "Node", "NodeTestSupport", "Cluster", "Ledger", "BallastCrypto", "Codec", "Storage", "TestSupport", "PeerTestSupport", "PeerNetwork",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ClusterTests",
            dependencies: ["Cluster", "Node", "Ledger", "BallastCrypto", "Codec", "Storage", "WalletClient", "Wallet", "TestSupport",
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio")]
        ),
        .testTarget(name: "WalletTests", dependencies: ["Wallet", "BallastCrypto"]),
        .testTarget(
            name: "WalletClientTests",
            dependencies: [
                "WalletClient", "Node", "NodeTestSupport", "Ledger", "BallastCrypto", "Storage",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "BallastCLITests", dependencies: ["BallastCLI", "BallastCrypto", "Ledger", "Storage", "Simulator", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "ConsensusTests", dependencies: ["Consensus", "Simulator", "BallastCrypto", "Codec"]),
        .testTarget(
            name: "NetworkTests",
            dependencies: [
                "PeerNetwork", "PeerTestSupport", "BallastCrypto", "Codec",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
