// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]
// Full RELRO for the programs (rtty-shell is set-id): every symbol bound at start-up, so
// the GOT is read-only for the whole run.
let bindNow: [LinkerSetting] = [.unsafeFlags(["-Xlinker", "-z", "-Xlinker", "now"], .when(platforms: [.linux]))]

let package = Package(
    name: "rtty",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "rttyd", targets: ["rttyd"]),
        .executable(name: "rtty", targets: ["rtty"]),
        .executable(name: "rttyctl", targets: ["rttyctl"]),
        .executable(name: "rtty-shell", targets: ["rtty-shell"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // Without its Foundation trait: no program may link full Foundation.
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2", traits: []),
    ],
    targets: [
        // Pure decisions: frames, config, settings, escapes. No Glibc.
        .target(name: "RTTYCore", dependencies: ["CRTTYTOML"], swiftSettings: strict),
        // toml++ (Debian's libtomlplusplus-dev, header-only) behind a read-only C interface.
        .target(name: "CRTTYTOML"),
        // C only where Swift cannot go: ucred, termios2, fork-to-exec under a pty.
        .target(name: "CRTTYShims"),
        // The only Swift that talks to the OS.
        .target(
            name: "RTTYSystem",
            dependencies: [
                "RTTYCore", "CRTTYShims",
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        // libpam, for rtty-shell's PAM service.
        .systemLibrary(name: "CPAM", path: "Sources/CPAM", providers: [.apt(["libpam0g-dev"])]),
        // PAM conversation behind a small protocol, so tests can script it.
        .target(name: "RTTYAuth", dependencies: ["CPAM"], swiftSettings: strict),
        // The daemon's services: consoles, listeners, logs.
        .target(
            name: "RTTYDaemon",
            dependencies: [
                "RTTYCore", "RTTYSystem", "CRTTYShims",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        // One session on a console socket as the calling user, without NIO (rttyctl send
        // and expect link it and stay small), and the words for a console out of reach.
        .target(
            name: "RTTYSession",
            dependencies: ["RTTYCore", "RTTYSystem", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strict
        ),
        // The interactive console client, shared by rtty and rtty-shell.
        .target(
            name: "RTTYClient",
            dependencies: [
                "RTTYCore", "RTTYSystem", "RTTYSession",
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "rttyd",
            dependencies: [
                "RTTYDaemon", "RTTYCore", "RTTYSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict,
            linkerSettings: bindNow
        ),
        // The fleet: its hosts reached over the user's own ssh (rtty --fleet, rttyctl --fleet).
        .target(
            name: "RTTYFleet",
            dependencies: ["RTTYCore", "RTTYSystem", .product(name: "Subprocess", package: "swift-subprocess")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "rtty",
            dependencies: [
                "RTTYClient", "RTTYSession", "RTTYCore", "RTTYSystem", "RTTYFleet",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict,
            linkerSettings: bindNow
        ),
        .executableTarget(
            name: "rttyctl",
            dependencies: [
                "RTTYCore", "RTTYSystem", "RTTYSession", "RTTYFleet",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict,
            linkerSettings: bindNow
        ),
        .executableTarget(
            name: "rtty-shell",
            dependencies: [
                "RTTYClient", "RTTYCore", "RTTYSystem", "RTTYAuth",
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict,
            linkerSettings: bindNow
        ),
        // Fuzz targets for the parsers of untrusted input, and their libFuzzer driver.
        .target(name: "RTTYFuzz", dependencies: ["RTTYCore"], swiftSettings: strict),
        .executableTarget(
            name: "rtty-fuzz",
            dependencies: ["RTTYFuzz"],
            swiftSettings: strict + [.unsafeFlags(["-parse-as-library"])]
        ),
        .testTarget(name: "RTTYCoreTests", dependencies: ["RTTYCore", "RTTYFuzz"]),
        .testTarget(
            name: "RTTYSystemTests",
            dependencies: ["RTTYSystem", "RTTYCore", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The daemon's hubs and handlers in process, on NIO's embedded loop (virtual time).
        .testTarget(
            name: "RTTYDaemonTests",
            dependencies: [
                "RTTYDaemon", "RTTYCore", "RTTYSystem",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["RTTYCore", "RTTYSystem", .product(name: "SystemPackage", package: "swift-system")]
        ),
    ],
    cxxLanguageStandard: .cxx17
)
