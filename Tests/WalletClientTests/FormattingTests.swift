import Ledger
import Node
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

@Suite struct ReceiptReportTests {
    /// Answers as the node sends them.
    static func decode<T: Decodable>(_ json: String) throws -> T { try JSONDecoder().decode(T.self, from: Data(json.utf8)) }

    static let answer = #"{"status":"committed","txId":"0xab","receipt":{"txId":"0xab","height":7,"index":2,"ok":true,"orders":["#
        + #"{"orderId":5,"filled":150000,"resting":850000},{"filled":0,"resting":0,"code":"post_only_would_cross","message":"would take"}]}}"#

    static let asset = #""borrowable":true,"ltvPpm":0,"betaPpm":0,"idiosyncraticPpm":0,"depth":0,"initialPrice":1,"supplyCap":0,"borrowCap":0,"userSupplyCap":0,"userBorrowCap":0"#
    static let params = #"{"chainId":"c","genesisTimeMs":0,"validators":[],"assets":[{"symbol":"USDC","decimals":6,"# + asset
        + #"},{"symbol":"BTC","decimals":8,"# + asset + #"}],"markets":[{"name":"BTC-PERP","kind":"perp","base":1,"tick":1,"lot":1,"#
        + #""minNotional":0,"maxLeverage":1,"takerFeePpm":0,"makerFeePpm":0,"priceBandPpm":0,"openInterestCap":0}],"risk":{"#
        + #""marketShockPpm":0,"contingencyPpm":0,"minRequirement":0,"liquidationRatioPpm":0,"liquidationTargetPpm":0,"liquidationStepPpm":0,"#
        + #""takeoverNumerator":2,"takeoverDenominator":3,"liquidatorSharePpm":0,"insuranceSharePpm":0,"backstopSharePpm":0,"#
        + #""backstopMaxPerBlock":0,"backstopAddress":"0x0000000000000000000000000000000000000000","maxOpenOrders":1}}"#

    @Test func orderSizesInWholeUnitsWhenTheMarketsAreKnown() throws {
        let answer: TransactionAnswer = try Self.decode(Self.answer)
        let units = Units(try Self.decode(Self.params) as ChainParameters)
        #expect(Report.transaction(answer, units: units, orderMarkets: [0, 0]) == """
            0xab: committed at height 7, index 2: ok
            ORDER  FILLED  RESTING  RESULT
                5  0.0015   0.0085  ok
                -       0        0  post_only_would_cross: would take
            """)
        // Without the markets, base units, and the header says so.
        let raw = Report.transaction(answer)
        #expect(raw.contains("ORDER  FILLED (base units)  RESTING (base units)  RESULT"))
        #expect(raw.contains("    5               150000                850000  ok"))
    }

    @Test func pendingAndRejected() throws {
        let pending: TransactionAnswer = try Self.decode(#"{"status":"pending","txId":"0x1"}"#)
        #expect(Report.transaction(pending) == "0x1: pending (in the mempool, not yet committed)")
        let rejected: TransactionAnswer = try Self.decode(#"{"status":"committed","txId":"0x2","receipt":{"txId":"0x2","height":3,"index":0,"ok":false,"#
            + #""code":"insufficient_balance","message":"asset 0: 0 available, 5 needed","orders":[]}}"#)
        #expect(Report.transaction(rejected) == "0x2: committed at height 3, index 0: REJECTED insufficient_balance\n  asset 0: 0 available, 5 needed")
    }
}
