import Foundation
import Testing
import WalletClient

@Suite struct AmountFormattingTests {
    @Test func baseUnitsWithDecimals() {
        #expect(Amount.format(1_234_500, decimals: 6) == "1.234500")
        #expect(Amount.format(5, decimals: 6) == "0.000005")
        #expect(Amount.format(-250_000_000, decimals: 6) == "-250.000000")
        #expect(Amount.format(100_000_000, decimals: 8) == "1.00000000")
        #expect(Amount.format(42, decimals: 0) == "42")
        #expect(Amount.format(0, decimals: 8) == "0.00000000")
    }

    @Test func extremesDoNotTrap() {
        #expect(Amount.format(.min, decimals: 6) == "-9223372036854.775808")
        #expect(Amount.format(.max, decimals: 18) == "9.223372036854775807")
        // Out-of-range decimals are clamped, never a crash.
        #expect(Amount.format(12, decimals: -3) == "12")
        #expect(Amount.format(1, decimals: 40) == "0.000000000000000001")
    }

    @Test func trimmedDropsTrailingZerosOnly() {
        #expect(Amount.formatTrimmed(1_500_000, decimals: 6) == "1.5")
        #expect(Amount.formatTrimmed(250_000_000, decimals: 6) == "250")
        #expect(Amount.formatTrimmed(1_000, decimals: 8) == "0.00001")
        #expect(Amount.formatTrimmed(-62_000_000_000, decimals: 6) == "-62000")
        #expect(Amount.formatTrimmed(1200, decimals: 0) == "1200")
    }

    @Test func ppmAsPercent() {
        #expect(Amount.percent(ppm: 125_000) == "12.50%")
        #expect(Amount.percent(ppm: 1_000_000) == "100.00%")
        #expect(Amount.percent(ppm: 149) == "0.01%")   // 0.0149% rounds to 0.01%
        #expect(Amount.percent(ppm: 150) == "0.02%")   // half rounds away from zero
        #expect(Amount.percent(ppm: -150) == "-0.02%")
        #expect(Amount.percent(ppm: 0) == "0.00%")
        #expect(Amount.percent(ppm: .max) == "inf")
    }

    @Test func wadAsPercent() {
        #expect(Amount.percent(wad: "0.052500000000000000") == "5.2500%")
        #expect(Amount.percent(wad: "1.000000000000000000") == "100.0000%")
        #expect(Amount.percent(wad: "0.000000000000000000") == "0.0000%")
        #expect(Amount.percent(wad: "-0.000125000000000000") == "-0.0125%")
        #expect(Amount.percent(wad: "12.345678900000000000", decimals: 2) == "1234.56%")
        // Anything else is shown as given rather than misread.
        #expect(Amount.percent(wad: "0.05") == "0.05")
        #expect(Amount.percent(wad: "abc") == "abc")
        #expect(Amount.percent(wad: "") == "")
    }

    @Test func timestampsAreUTC() {
        #expect(Amount.timestamp(ms: 1_767_225_600_000) == "2026-01-01T00:00:00.000Z")
        #expect(Amount.timestamp(ms: 1_767_225_600_123) == "2026-01-01T00:00:00.123Z")
    }
}

@Suite struct TextTableTests {
    @Test func padsColumnsAndRightAlignsNumbers() {
        var t = TextTable(["ASSET", "WALLET", "NOTE"])
        t.add(["USDC", "1000.5", "x"])
        t.add(["BTC", "-0.25", "long note"])
        #expect(t.render() == """
            ASSET  WALLET  NOTE
            USDC   1000.5  x
            BTC     -0.25  long note
            """)
    }

    @Test func shortRowsAndEmptyTables() {
        var t = TextTable(["A", "B"])
        #expect(t.render() == "A  B")
        t.add(["only"])
        #expect(t.render() == "A     B\nonly")
    }
}

@Suite struct NodeClientErrorTests {
    @Test func theNodesJSONErrorKeepsItsCodeAndMessage() {
        let body = Data(#"{"error":{"code":"bad_hex","message":"transaction hex: odd length"}}"#.utf8)
        let error = NodeClientError.from(status: 400, body: body)
        #expect(error == .rejected(status: 400, code: "bad_hex", message: "transaction hex: odd length"))
        #expect(error.description == "node refused (HTTP 400, bad_hex): transaction hex: odd length")
    }

    @Test func otherBodiesAreShownShortened() {
        let html = Data(("<html>" + String(repeating: "x", count: 500) + "</html>").utf8)
        guard case .badResponse(502, let reason) = NodeClientError.from(status: 502, body: html) else {
            Issue.record("expected badResponse"); return
        }
        #expect(reason.count == 200 && reason.hasPrefix("<html>x"))
        #expect(NodeClientError.from(status: 500, body: Data()) == .badResponse(status: 500, reason: "empty body"))
    }

    @Test func nodeURLs() throws {
        #expect(try NodeClient(url: "http://127.0.0.1:8080/").baseURL == "http://127.0.0.1:8080")
        #expect(try NodeClient(url: "127.0.0.1:9100").baseURL == "http://127.0.0.1:9100")
        #expect(try NodeClient(url: "https://node.example:443").baseURL == "https://node.example:443")
        for bad in ["ftp://host:1", "http://", "http://host:1/v1", "http://host:1?x=1", ""] {
            #expect(throws: NodeClientError.badURL(bad)) { try NodeClient(url: bad) }
        }
    }

    @Test func unreachableNodeIsNamed() async throws {
        // Port 9 (discard) on loopback: nothing listens there in the test environment.
        let client = try NodeClient(url: "http://127.0.0.1:9", timeout: 5)
        await #expect {
            _ = try await client.status()
        } throws: { error in
            guard case NodeClientError.unreachable(let url, _) = error else { return false }
            return url == "http://127.0.0.1:9"
        }
    }
}
