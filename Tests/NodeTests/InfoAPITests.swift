#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import BallastCrypto
import Foundation
import Ledger
import Node
import NodeTestSupport
import Testing

/// `POST /info` against one node with a scripted book: every number is worked out by hand
/// from the fills below (docs/api.md, "Hyperliquid info API").
///
/// The genesis is the testnet's with pools at 0% (except BTC's 5% base rate, which nobody
/// borrows) and a funding interval of ten years, so interest and funding cannot move the
/// numbers while the test runs; block times come from the wall clock.
@Suite(.serialized) struct InfoAPITests {
    static let interval10y: Int64 = 315_360_000_000

    static func adjust(_ g: inout Genesis) {
        g.rateModel = RateModel(baseRatePpm: 0, slope1Ppm: 0, kinkPpm: 800_000, slope2Ppm: 0, reserveFactorPpm: 100_000)
        g.assets[1].rateModel = RateModel(baseRatePpm: 50_000, slope1Ppm: 0, kinkPpm: 800_000, slope2Ppm: 950_000, reserveFactorPpm: 100_000)
        g.funding.intervalMs = interval10y
    }

    /// Signs and commits transactions, one round at a time.
    final class Driver {
        let node: SingleNode
        var nonce = UInt64(Date().timeIntervalSince1970 * 1000)
        init(node: SingleNode) { self.node = node }

        /// Submits every action of the round (signer, action), then waits for all of them; each must
        /// succeed. Returns the transaction ids.
        @discardableResult
        func round(_ txs: [(SigningKey, Action)]) async throws -> [Hash256] {
            var ids: [Hash256] = []
            for (key, action) in txs {
                nonce += 1
                let tx = Transaction(chainID: "ballast-testnet-1", signer: key.publicKey, nonce: nonce, action: action).signed(with: key)
                ids.append(try await node.runtime.submit(tx.canonicalBytes))
            }
            for id in ids {
                let receipt = try #require(await node.runtime.waitForCommit(id, timeout: .seconds(30)))
                #expect(receipt.ok, "\(receipt)")
                for order in receipt.orders { #expect(order.code == nil, "\(receipt)") }
            }
            return ids
        }
    }

    /// POST /info with `body`: the status and the parsed JSON answer.
    static func info(_ node: SingleNode, _ body: String) async throws -> (Int, Any) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(node.port)/info")!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.timeoutInterval = 30
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
    }

    static func object(_ node: SingleNode, _ body: String) async throws -> [String: Any] {
        let (status, json) = try await info(node, body)
        #expect(status == 200, "\(body): \(json)")
        return try #require(json as? [String: Any], "\(body): \(json)")
    }

    static func array(_ node: SingleNode, _ body: String) async throws -> [Any] {
        let (status, json) = try await info(node, body)
        #expect(status == 200, "\(body): \(json)")
        return try #require(json as? [Any], "\(body): \(json)")
    }

    static func order(_ market: MarketID, _ side: Side, price: Int64, size: Int64) -> OrderRequest {
        OrderRequest(market: market, side: side, price: price, size: size, timeInForce: .gtc, reduceOnly: false, clientID: nil)
    }

    @Test func answersHyperliquidQueriesWithHandComputedNumbers() async throws {
        let node = try await SingleNode.start(configure: { $0.rpc.rateLimitPerSecond = 1_000_000 }, adjustGenesis: InfoAPITests.adjust)
        do { try await scenario(node) } catch {
            await node.stop()
            throw error
        }
        await node.stop()
    }

    private func scenario(_ node: SingleNode) async throws {
        let faucet = try SingleNode.key("ballast-testnet-faucet")
        let maker = try SingleNode.key("info-maker"), alice = try SingleNode.key("info-alice"), bob = try SingleNode.key("info-bob")
        let d = Driver(node: node)
        let usdc: Int64 = 1_000_000, btc: Int64 = 100_000_000
        // Market ids: 0 BTC/USDC, 3 BTC-PERP. Prices are USDC base units per BTC.
        try await d.round([
            (faucet, .transfer(to: maker.address, asset: 0, amount: 200_000 * usdc)),
            (faucet, .transfer(to: maker.address, asset: 1, amount: 2 * btc)),
            (faucet, .transfer(to: alice.address, asset: 0, amount: 5_000 * usdc)),
            (faucet, .transfer(to: bob.address, asset: 0, amount: 500 * usdc)),
        ])
        try await d.round([
            (maker, .supply(asset: 0, amount: 50_000 * usdc)),   // the cash alice will borrow
            (alice, .setMarginMode(.portfolio)),
            (maker, .placeOrders([
                Self.order(0, .sell, price: 61_900 * usdc, size: btc / 10),
                Self.order(0, .sell, price: 62_600 * usdc, size: btc / 5),
                Self.order(0, .buy, price: 61_500 * usdc, size: btc / 20),
                Self.order(3, .buy, price: 62_100 * usdc, size: btc / 10),
                Self.order(3, .buy, price: 61_000 * usdc, size: btc / 20),
                Self.order(3, .buy, price: 60_000 * usdc, size: btc / 50),
                Self.order(3, .buy, price: 60_000 * usdc, size: btc / 50),
                Self.order(3, .sell, price: 63_500 * usdc, size: 3 * btc / 100),
            ])),
        ])
        // alice: buys 0.1 BTC spot at 61,900 (paying 6,190 + 2.7855 fee, 1,190 and the fee borrowed
        // past her 5,000), then shorts 0.1 BTC-PERP at 62,100 (fee 2.7945, borrowed too): hedged.
        // bob: buys 0.02 BTC-PERP at 63,500 (fee 0.5715).
        let spotBuy = try await d.round([(alice, .placeOrders([Self.order(0, .buy, price: 61_900 * usdc, size: btc / 10)]))])[0]
        let perpSell = try await d.round([
            (alice, .placeOrders([Self.order(3, .sell, price: 62_100 * usdc, size: btc / 10)])),
            (bob, .placeOrders([Self.order(3, .buy, price: 63_500 * usdc, size: btc / 50)])),
        ])[0]

        // Markets.
        let meta = try await Self.object(node, #"{"type":"meta"}"#)
        let universe = try #require(meta["universe"] as? [[String: Any]])
        #expect(universe.map { $0["name"] as? String } == ["BTC", "ETH", "HYPE"])
        #expect(universe.map { $0["szDecimals"] as? Int } == [5, 4, 2])
        #expect(universe.map { $0["maxLeverage"] as? Int } == [40, 25, 10])
        let spotMeta = try await Self.object(node, #"{"type":"spotMeta"}"#)
        let tokens = try #require(spotMeta["tokens"] as? [[String: Any]])
        #expect(tokens.map { $0["name"] as? String } == ["USDC", "BTC", "ETH", "HYPE"])
        #expect(tokens.map { $0["szDecimals"] as? Int } == [6, 5, 4, 2])
        #expect(tokens.map { $0["weiDecimals"] as? Int } == [6, 8, 8, 8])
        #expect(tokens[1]["tokenId"] as? String == "0x00000000000000000000000000000001")
        let pairs = try #require(spotMeta["universe"] as? [[String: Any]])
        #expect(pairs.map { $0["name"] as? String } == ["BTC/USDC", "ETH/USDC", "HYPE/USDC"])
        #expect(pairs.map { $0["tokens"] as? [Int] } == [[1, 0], [2, 0], [3, 0]])
        #expect(pairs.map { $0["index"] as? Int } == [0, 1, 2])

        // BTC: bids 61,000 and 60,000, ask 63,500 left, oracle 62,000 = mark (the median).
        let mids = try #require(try await Self.object(node, #"{"type":"allMids","dex":""}"#) as? [String: String])
        #expect(mids == ["BTC": "62250.0", "ETH": "3000.0", "HYPE": "40.0",
                         "BTC/USDC": "62050.0", "ETH/USDC": "3000.0", "HYPE/USDC": "40.0"])
        // The node keeps committing (empty blocks), so the book's time is the ledger's at some
        // moment while the request was served.
        let timeBefore = await node.runtime.withLedger { $0.global.timeMs }
        let book = try await Self.object(node, #"{"type":"l2Book","coin":"BTC"}"#)
        let timeAfter = await node.runtime.withLedger { $0.global.timeMs }
        #expect(book["coin"] as? String == "BTC")
        let levels = try #require(book["levels"] as? [[[String: Any]]])
        #expect(levels.count == 2)
        #expect(levels[0].map { [$0["px"] as? String, $0["sz"] as? String] } == [["61000.0", "0.05"], ["60000.0", "0.04"]])
        #expect(levels[0].map { $0["n"] as? Int } == [1, 2])
        #expect(levels[1].map { [$0["px"] as? String, $0["sz"] as? String] } == [["63500.0", "0.01"]])
        let time = try #require(book["time"] as? Int64)
        #expect((timeBefore...timeAfter).contains(time), "\(time) not in \(timeBefore)...\(timeAfter)")
        let spotBook = try await Self.object(node, #"{"type":"l2Book","coin":"@0"}"#)
        #expect(spotBook["coin"] as? String == "BTC/USDC")
        let spotLevels = try #require(spotBook["levels"] as? [[[String: Any]]])
        #expect(spotLevels[1].map { $0["px"] as? String } == ["62600.0"])

        let contexts = try await Self.array(node, #"{"type":"metaAndAssetCtxs"}"#)
        #expect(contexts.count == 2)
        let perpContexts = try #require(contexts[1] as? [[String: Any]])
        #expect(perpContexts.count == 3)
        #expect(perpContexts[0]["markPx"] as? String == "62000.0")
        #expect(perpContexts[0]["oraclePx"] as? String == "62000.0")
        #expect(perpContexts[0]["midPx"] as? String == "62250.0")
        #expect(perpContexts[0]["openInterest"] as? String == "0.1")   // alice's short = maker 0.08 + bob 0.02
        #expect(perpContexts[0]["impactPxs"] is NSNull)                // 5,450 USDC of bids < the 10,000 impact notional
        #expect(perpContexts[1]["midPx"] is NSNull)
        let spotContexts = try await Self.array(node, #"{"type":"spotMetaAndAssetCtxs"}"#)
        let spotCtx = try #require(spotContexts[1] as? [[String: Any]])
        #expect(spotCtx.map { $0["coin"] as? String } == ["BTC/USDC", "ETH/USDC", "HYPE/USDC"])
        #expect(spotCtx[0]["midPx"] as? String == "62050.0")

        // alice, portfolio: USDC -1,195.58 (borrowed), 0.1 BTC supplied, short 0.1 at 62,100.
        // Hedged: PR = 10% x 1.25% x 0.1 x 62,000 = 7.75, so MR = IR = the 20 USDC floor.
        // V_liq = -1,195.58 + PnL 10 + 0.1 x 62,000 = 5,014.42.
        let state = try await Self.object(node, #"{"type":"clearinghouseState","user":"\#(alice.address)","dex":""}"#)
        let summary = try #require(state["marginSummary"] as? [String: String])
        #expect(summary == ["accountValue": "5014.42", "totalMarginUsed": "20.0", "totalNtlPos": "6200.0", "totalRawUsd": "11214.42"])
        #expect(state["crossMarginSummary"] as? [String: String] == summary)
        #expect(state["crossMaintenanceMarginUsed"] as? String == "20.0")
        #expect(state["withdrawable"] as? String == "0.0")
        let positions = try #require(state["assetPositions"] as? [[String: Any]])
        #expect(positions.count == 1 && positions[0]["type"] as? String == "oneWay")
        let position = try #require(positions[0]["position"] as? [String: Any])
        #expect(position["coin"] as? String == "BTC")
        #expect(position["szi"] as? String == "-0.1")
        #expect(position["entryPx"] as? String == "62100.0")
        #expect(position["positionValue"] as? String == "6200.0")
        #expect(position["unrealizedPnl"] as? String == "10.0")
        #expect(position["marginUsed"] as? String == "155.0")          // 6,200 x 2 x 1.25%, this position alone
        #expect(position["returnOnEquity"] as? String == "0.064516")   // 10 / 155
        #expect(position["maxLeverage"] as? Int == 40)
        let leverage = try #require(position["leverage"] as? [String: Any])
        #expect(leverage["type"] as? String == "cross" && leverage["value"] as? Int == 40)
        let liquidation = await node.runtime.withLedger { try? $0.accountSummary(alice.address).positions.first?.liquidationPriceAbove }
        #expect((position["liquidationPx"] as? String) == liquidation.map { HLNumber.string($0, scale: 6) })

        // bob, standard: 499.4285 USDC, long 0.02 at 63,500, mark 62,000: PnL -30, MR 15.5, IR 31.
        let bobState = try await Self.object(node, #"{"type":"clearinghouseState","user":"\#(bob.address)"}"#)
        #expect(bobState["marginSummary"] as? [String: String]
                == ["accountValue": "469.4285", "totalMarginUsed": "31.0", "totalNtlPos": "1240.0", "totalRawUsd": "-770.5715"])
        #expect(bobState["crossMaintenanceMarginUsed"] as? String == "15.5")
        #expect(bobState["withdrawable"] as? String == "438.4285")     // V 469.4285 - IR 31
        let bobPosition = try #require((bobState["assetPositions"] as? [[String: Any]])?.first?["position"] as? [String: Any])
        #expect(bobPosition["szi"] as? String == "0.02")
        #expect(bobPosition["unrealizedPnl"] as? String == "-30.0")
        #expect(bobPosition["returnOnEquity"] as? String == "-0.967741")

        let spot = try await Self.object(node, #"{"type":"spotClearinghouseState","user":"\#(alice.address)"}"#)
        let balances = try #require(spot["balances"] as? [[String: Any]])
        #expect(balances.map { $0["coin"] as? String } == ["USDC", "BTC"])
        #expect(balances.map { $0["token"] as? Int } == [0, 1])
        #expect(balances.map { $0["total"] as? String } == ["-1195.58", "0.1"])
        #expect(balances.map { $0["borrowed"] as? String } == ["1195.58", "0.0"])
        #expect(balances.map { $0["supplied"] as? String } == ["0.0", "0.1"])
        #expect(balances.map { $0["hold"] as? String } == ["0.0", "0.0"])
        #expect(balances.map { $0["ltv"] as? String } == ["1.0", "0.5"])
        #expect(balances.map { $0["entryNtl"] as? String } == ["0.0", "6190.0"])   // the USDC her 0.1 BTC cost
        #expect(spot["portfolioMarginEnabled"] as? Bool == true)
        #expect(spot["portfolioMarginRatio"] as? String == "0.003989")   // 20 / 5,014.42, rounded up to a ppm
        #expect((spot["tokenToAvailableAfterMaintenance"] as? [[Any]])?.first?.last as? String == "4994.42")

        // maker's resting orders, newest first; ids count from 1 in placement order.
        let orders = try await Self.array(node, #"{"type":"openOrders","user":"\#(maker.address)"}"#) as? [[String: Any]]
        let rows = try #require(orders)
        #expect(rows.map { $0["oid"] as? Int } == [8, 7, 6, 5, 3, 2])
        #expect(rows.map { $0["coin"] as? String } == ["BTC", "BTC", "BTC", "BTC", "BTC/USDC", "BTC/USDC"])
        #expect(rows.map { $0["side"] as? String } == ["A", "B", "B", "B", "B", "A"])
        #expect(rows.map { $0["limitPx"] as? String } == ["63500.0", "60000.0", "60000.0", "61000.0", "61500.0", "62600.0"])
        #expect(rows.map { $0["sz"] as? String } == ["0.01", "0.02", "0.02", "0.05", "0.05", "0.2"])
        #expect(rows.map { $0["origSz"] as? String } == ["0.03", "0.02", "0.02", "0.05", "0.05", "0.2"])   // bob took 0.02 of 8
        let frontend = try #require(try await Self.array(node, #"{"type":"frontendOpenOrders","user":"\#(maker.address)"}"#) as? [[String: Any]])
        #expect(frontend.count == 6)
        #expect(frontend[0]["tif"] as? String == "Gtc" && frontend[0]["orderType"] as? String == "Limit")
        #expect(frontend[0]["reduceOnly"] as? Bool == false && frontend[0]["isTrigger"] as? Bool == false)

        // Lending: alice owes 1,195.58 USDC of the 50,000 maker supplied; her 0.1 BTC is supplied.
        let lend = try await Self.object(node, #"{"type":"borrowLendUserState","user":"\#(alice.address)"}"#)
        let tokenStates = try #require(lend["tokenToState"] as? [[Any]])
        #expect(tokenStates.map { $0.first as? Int } == [0, 1])
        let usdcState = try #require(tokenStates[0].last as? [String: [String: String]])
        #expect(usdcState["borrow"] == ["basis": "1195.58", "value": "1195.58"])
        #expect(usdcState["supply"] == ["basis": "0.0", "value": "0.0"])
        let btcState = try #require(tokenStates[1].last as? [String: [String: String]])
        #expect(btcState["supply"] == ["basis": "0.1", "value": "0.1"])
        #expect(lend["health"] as? String == "healthy")
        #expect(lend["healthFactor"] as? String == "250.721")           // 5,014.42 / 20
        let reserve = try await Self.object(node, #"{"type":"borrowLendReserveState","token":0}"#)
        #expect(reserve as? [String: String] == [
            "borrowYearlyRate": "0.0", "supplyYearlyRate": "0.0", "balance": "48804.42", "utilization": "0.0239116",
            "oraclePx": "1.0", "ltv": "1.0", "totalSupplied": "50000.0", "totalBorrowed": "1195.58"])
        let reserves = try await Self.array(node, #"{"type":"allBorrowLendReserveStates"}"#)
        #expect(reserves.count == 4)
        let btcReserve = try #require((reserves[1] as? [Any])?.last as? [String: String])
        #expect(btcReserve["borrowYearlyRate"] == "0.05")
        #expect(btcReserve["totalSupplied"] == "0.1" && btcReserve["utilization"] == "0.0")
        #expect(btcReserve["oraclePx"] == "62000.0" && btcReserve["ltv"] == "0.5")

        // Fills, newest first. Order ids: maker's 1...8, alice's 9 (spot) and 10 (perp), bob's 11.
        let aliceFills = try #require(try await Self.array(node, #"{"type":"userFills","user":"\#(alice.address)"}"#) as? [[String: Any]])
        #expect(aliceFills.map { $0["coin"] as? String } == ["BTC", "BTC/USDC"])
        #expect(aliceFills.map { $0["px"] as? String } == ["62100.0", "61900.0"])
        #expect(aliceFills.map { $0["sz"] as? String } == ["0.1", "0.1"])
        #expect(aliceFills.map { $0["side"] as? String } == ["A", "B"])
        #expect(aliceFills.map { $0["dir"] as? String } == ["Open Short", "Buy"])
        #expect(aliceFills.map { $0["startPosition"] as? String } == ["0.0", "0.0"])
        #expect(aliceFills.map { $0["fee"] as? String } == ["2.7945", "2.7855"])
        #expect(aliceFills.map { $0["closedPnl"] as? String } == ["0.0", "0.0"])
        #expect(aliceFills.map { $0["oid"] as? Int } == [10, 9])
        #expect(aliceFills.map { $0["crossed"] as? Bool } == [true, true])
        #expect(aliceFills.map { $0["hash"] as? String } == ["0x" + perpSell.hex, "0x" + spotBuy.hex])
        #expect(aliceFills.map { $0["feeToken"] as? String } == ["USDC", "USDC"])
        // maker: sold 0.02 of its 0.1 long to bob at 63,500 (bought at 62,100: +28 closed).
        let makerFills = try #require(try await Self.array(node, #"{"type":"userFills","user":"\#(maker.address)"}"#) as? [[String: Any]])
        #expect(makerFills.map { $0["dir"] as? String } == ["Close Long", "Open Long", "Sell"])
        #expect(makerFills.map { $0["startPosition"] as? String } == ["0.1", "0.0", "2.0"])
        #expect(makerFills.map { $0["closedPnl"] as? String } == ["28.0", "0.0", "0.0"])
        #expect(makerFills.map { $0["fee"] as? String } == ["0.1905", "0.9315", "0.9285"])
        #expect(makerFills.map { $0["oid"] as? Int } == [8, 4, 1])
        #expect(makerFills.map { $0["crossed"] as? Bool } == [false, false, false])
        // Both sides of a trade share its tid.
        #expect(makerFills[1]["tid"] as? Int == aliceFills[0]["tid"] as? Int)
        #expect(makerFills[2]["tid"] as? Int == aliceFills[1]["tid"] as? Int)
        #expect(makerFills[0]["tid"] as? Int != makerFills[1]["tid"] as? Int)
        let makerState = try await Self.object(node, #"{"type":"clearinghouseState","user":"\#(maker.address)"}"#)
        let makerPosition = try #require((makerState["assetPositions"] as? [[String: Any]])?.first?["position"] as? [String: Any])
        #expect(makerPosition["szi"] as? String == "0.08" && makerPosition["entryPx"] as? String == "62100.0")
        #expect(makerPosition["cumFunding"] as? [String: String] == ["allTime": "0.0", "sinceOpen": "0.0", "sinceChange": "0.0"])

        // An address that never appeared is an empty account, not an error.
        let nobody = try await Self.object(node, #"{"type":"clearinghouseState","user":"0x\#(String(repeating: "0", count: 40))"}"#)
        #expect((nobody["assetPositions"] as? [Any])?.isEmpty == true)
        #expect((nobody["marginSummary"] as? [String: String])?["accountValue"] == "0.0")
    }

    @Test func badRequestsGet400WithACode() async throws {
        let node = try await SingleNode.start { $0.rpc.rateLimitPerSecond = 1_000_000 }
        let cases: [(String, Int, String)] = [
            (#"{"type":"candleSnapshot"}"#, 400, "unknown_type"),
            (#"{"type":5}"#, 400, "bad_json"),
            (#"{}"#, 400, "missing_type"),
            (#"[1,2]"#, 400, "bad_json"),
            (#"{"type":"meta""#, 400, "bad_json"),
            ("", 400, "empty_body"),
            (#"{"type":"clearinghouseState"}"#, 400, "missing_user"),
            (#"{"type":"clearinghouseState","user":"0x1234"}"#, 400, "bad_user"),
            (#"{"type":"clearinghouseState","user":42}"#, 400, "bad_json"),
            (#"{"type":"meta","dex":"xyz"}"#, 400, "unknown_dex"),
            (#"{"type":"l2Book"}"#, 400, "missing_coin"),
            (#"{"type":"l2Book","coin":"DOGE"}"#, 400, "unknown_coin"),
            (#"{"type":"l2Book","coin":"@7"}"#, 400, "unknown_coin"),
            (#"{"type":"l2Book","coin":"BTC","nSigFigs":2}"#, 400, "unsupported_aggregation"),
            (#"{"type":"borrowLendReserveState"}"#, 400, "missing_token"),
            (#"{"type":"borrowLendReserveState","token":99}"#, 400, "unknown_token"),
            (#"{"type":"borrowLendReserveState","token":-1}"#, 400, "unknown_token"),
            (#"{"type":"borrowLendReserveState","token":1e40}"#, 400, "bad_json"),
        ]
        do {
            for (body, status, code) in cases {
                let (got, json) = try await Self.info(node, body)
                let object = json as? [String: Any]
                #expect(got == status, "\(body): \(json)")
                #expect(object?["code"] as? String == code, "\(body): \(json)")
                #expect((object?["error"] as? [String: Any])?["code"] as? String == code, "\(body)")
                #expect(((object?["msg"] as? String) ?? "").isEmpty == false, "\(body)")
            }
            // The node still answers.
            let (status, _) = try await Self.info(node, #"{"type":"meta"}"#)
            #expect(status == 200)
        } catch {
            await node.stop()
            throw error
        }
        await node.stop()
    }

    /// cumFunding from a history: all of a market's funding, since the fill that opened the
    /// position (from flat or across zero), and since the last fill.
    @Test func fundingTotalsFromHistory() throws {
        let genesis = try SingleNode.testnetGenesis()
        let me = try SingleNode.key("me").address, other = try SingleNode.key("other").address
        func fill(_ height: UInt64, _ side: Side, _ size: Int64, from start: Int64) -> AccountEvent {
            AccountEvent(address: me, height: height, timeMs: Int64(height) * 1000, txIndex: 0, detail: .fill(FillEvent(
                market: 3, orderId: height, cloid: nil, side: side, price: 62_000_000_000, size: size, quote: 0, fee: 1,
                closedPnl: 0, taker: true, counterparty: other, startPosition: start, tradeIndex: 0)))
        }
        func funding(_ height: UInt64, _ amount: Int64, market: MarketID = 3) -> AccountEvent {
            AccountEvent(address: me, height: height, timeMs: Int64(height) * 1000, txIndex: nil, detail: .funding(FundingEvent(
                market: market, amount: amount, positionSize: 1, oraclePrice: 62_000_000_000, rate: 0)))
        }
        // Oldest to newest: long 1, paid 5, flipped to short 1 (opens), received 2, added 1 short
        // (a change), paid 3; ETH-PERP funding apart. The history API gives them newest first.
        let events = [fill(1, .buy, 100, from: 0), funding(2, -5_000_000), fill(3, .sell, 200, from: 100), funding(4, 2_000_000),
                      fill(5, .sell, 100, from: -100), funding(6, -3_000_000), funding(7, -4_000_000, market: 4)]
        let history = InfoHistory(events: events.reversed(), genesis: genesis) { h, i in "0x\(h)-\(i)" }
        #expect(history.funding[3] == InfoHistory.FundingTotals(allTime: 6_000_000, sinceOpen: 1_000_000, sinceChange: 3_000_000))
        #expect(history.funding[4] == InfoHistory.FundingTotals(allTime: 4_000_000, sinceOpen: 4_000_000, sinceChange: 4_000_000))
        #expect(history.fills.map(\.dir) == ["Open Short", "Long > Short", "Open Long"])
        #expect(history.fills.map(\.hash) == ["0x5-0", "0x3-0", "0x1-0"])
        #expect(history.fills.map(\.tid) == [5 << 32, 3 << 32, 1 << 32])
        #expect(history.filled == [1: 100, 3: 200, 5: 100])

        // Spot cost, average: bought 100 units for 6,000, 50 more came in by transfer (at no
        // cost), sold 50 of the 150: 100 left cost 4,000; if 40 are held now, 1,600.
        func spot(_ height: UInt64, _ side: Side, _ size: Int64, quote: Int64, from start: Int64) -> AccountEvent {
            AccountEvent(address: me, height: height, timeMs: 0, txIndex: 0, detail: .fill(FillEvent(
                market: 0, orderId: height, cloid: nil, side: side, price: 1, size: size, quote: quote, fee: 0,
                closedPnl: 0, taker: true, counterparty: other, startPosition: start, tradeIndex: 1)))
        }
        let spotHistory = InfoHistory(events: [spot(2, .sell, 50, quote: 3_500, from: 150), spot(1, .buy, 100, quote: 6_000, from: 0)],
                                      genesis: genesis) { _, _ in nil }
        let cost = try #require(spotHistory.spotCost[1])
        #expect(cost == InfoHistory.SpotCost(amount: 100, cost: 4_000))
        #expect(cost.entryNotional(held: 100) == 4_000 && cost.entryNotional(held: 40) == 1_600 && cost.entryNotional(held: -5) == 0)
        #expect(spotHistory.fills.map(\.dir) == ["Sell", "Buy"])
        #expect(spotHistory.fills.map(\.hash) == ["0x" + String(repeating: "0", count: 64), "0x" + String(repeating: "0", count: 64)])
    }

    @Test func decimalStringsAreExact() {
        #expect(HLNumber.string(Int64(62_000_000_000), scale: 6) == "62000.0")
        #expect(HLNumber.string(Int64(-1_195_580_000), scale: 6) == "-1195.58")
        #expect(HLNumber.string(Int64(10_000_000), scale: 8) == "0.1")
        #expect(HLNumber.string(Int64(0), scale: 8) == "0.0")
        #expect(HLNumber.string(Int64(7), scale: 0) == "7.0")
        #expect(HLNumber.string(Int128(Int64.min), scale: 6) == "-9223372036854.775808")
        #expect(HLNumber.string(Int128.max, scale: 18) == "170141183460469231731.687303715884105727")
        #expect(HLNumber.ratio(10, 155, scale: 6) == "0.064516")
        #expect(HLNumber.ratio(-30, 31, scale: 6) == "-0.967741")
        #expect(HLNumber.ratio(1, 0, scale: 6) == nil)
    }
}
