import Foundation
import Testing
import TestSupport

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
    func sdkReadsTheTestnetAsComputedByHand() async throws {
        let script = Self.repository.appendingPathComponent("cluster/hyperliquid-sdk-test.sh").path
        let run = try await ChildProcess.run("/bin/bash", [script], environment: ["BALLAST": try ProcessCluster.locateBinary()],
                                             mergingErrors: true)
        let text = run.output
        #expect(run.status == 0, "cluster/hyperliquid-sdk-test.sh exited \(run.status):\n\(text)")
        #expect(text.contains("checks passed"), "\(text)")
    }
}
