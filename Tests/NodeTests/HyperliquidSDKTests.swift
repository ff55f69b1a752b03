import Foundation
import Testing

/// Hyperliquid's own Python SDK (hyperliquid-python-sdk 0.24.0, installed from PyPI into a virtual
/// environment by the script) reads a local one-validator testnet through `POST /info` and gets
/// the numbers cluster/hyperliquid_sdk_check.py works out by hand: cluster/hyperliquid-sdk-test.sh.
@Suite struct HyperliquidSDKTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// python3 with `venv` and `ensurepip` (Debian splits them into python3-venv).
    static var pythonVenvAvailable: Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import venv, ensurepip"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    @Test(.enabled(if: pythonVenvAvailable, "python3 with its venv module is not installed (Debian: python3-venv; cluster/install.sh installs it)"),
          .timeLimit(.minutes(10)))
    func sdkReadsTheTestnetAsComputedByHand() throws {
        let log = NSTemporaryDirectory() + "ballast-hl-sdk-\(UUID().uuidString).log"
        try #require(FileManager.default.createFile(atPath: log, contents: nil), "cannot create \(log)")
        defer { try? FileManager.default.removeItem(atPath: log) }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [Self.repository.appendingPathComponent("cluster/hyperliquid-sdk-test.sh").path]
        var environment = ProcessInfo.processInfo.environment
        environment["BALLAST"] = try ProcessCluster.locateBinary()
        p.environment = environment
        p.standardOutput = output
        p.standardError = output
        try p.run()
        p.waitUntilExit()
        try output.close()
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(p.terminationStatus == 0, "cluster/hyperliquid-sdk-test.sh exited \(p.terminationStatus):\n\(text)")
        #expect(text.contains("checks passed"), "\(text)")
    }
}
