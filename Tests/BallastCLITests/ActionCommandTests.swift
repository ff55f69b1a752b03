import ArgumentParser
import BallastCrypto
import Ledger
import Testing
@testable import BallastCLI

/// `tx sign NAME` and `tx NAME` are one command type with two deliveries: the same
/// arguments must make the same action, and each delivery takes only its own options.
@Suite struct ActionCommandTests {
    static let to = "0x4d4dbe917544b07922348a66b9c4b5a5a5f34a9f"

    /// Parses `args` as `ballast tx sign ...` and as `ballast tx ...` (with their own
    /// delivery options) and returns the action each made.
    func actions(_ args: [String]) throws -> (offline: Action, online: Action) {
        let offline = try Ballast.parseAsRoot(["tx", "sign"] + args + ["--key", "alice", "--chain-id", "c"])
        let online = try Ballast.parseAsRoot(["tx"] + args + ["--key", "alice", "--node", "127.0.0.1:1"])
        func action(_ command: ParsableCommand) throws -> Action {
            switch command {
            case let c as any ActionCommandProtocol: return try c.builtAction()
            default: throw ValidationError("not an action command: \(type(of: command))")
            }
        }
        return (try action(offline), try action(online))
    }

    @Test func everyActionParsesTheSameUnderSignAndSubmit() throws {
        let cases: [([String], Action)] = [
            (["order", "--market", "3", "--side", "sell", "--price", "62000000000", "--size", "1000", "--tif", "ioc", "--reduce-only"],
             .placeOrders([OrderRequest(market: 3, side: .sell, price: 62_000_000_000, size: 1000, timeInForce: .ioc, reduceOnly: true, clientID: nil)])),
            (["cancel", "--market", "3", "--oid", "42"], .cancel([.order(market: 3, orderID: 42)])),
            (["cancel-all"], .cancelAll(market: nil)),
            (["cancel-all", "--market", "5"], .cancelAll(market: 5)),
            (["transfer", "--to", Self.to, "--asset", "0", "--amount", "250000000"],
             .transfer(to: try Address(hex: Self.to), asset: 0, amount: 250_000_000)),
            (["supply", "--asset", "1", "--amount", "7"], .supply(asset: 1, amount: 7)),
            (["withdraw", "--asset", "1", "--amount", "7"], .withdraw(asset: 1, amount: 7)),
            (["borrow", "--asset", "2", "--amount", "9"], .borrow(asset: 2, amount: 9)),
            (["repay", "--asset", "2", "--amount", "9"], .repay(asset: 2, amount: 9)),
            (["liquidate", "--target", Self.to], .liquidate(target: try Address(hex: Self.to))),
            (["mode", "portfolio"], .setMarginMode(.portfolio)),
            (["oracle", "--price", "1=62000000000", "--price", "2=3100000000"],
             .oraclePrices([OraclePrice(asset: 1, price: 62_000_000_000), OraclePrice(asset: 2, price: 3_100_000_000)])),
            (["json", #"{"type":"supply","asset":0,"amount":5}"#], .supply(asset: 0, amount: 5)),
        ]
        for (args, expected) in cases {
            let (offline, online) = try actions(args)
            #expect(offline == expected, "tx sign \(args)")
            #expect(online == expected, "tx \(args)")
        }
    }

    @Test func eachDeliveryTakesOnlyItsOwnOptions() throws {
        let order = ["order", "--market", "3", "--side", "buy", "--price", "1", "--size", "1", "--key", "alice"]
        // Offline signing needs the chain id and has no --node / --wait.
        #expect(throws: (any Error).self) { try Ballast.parseAsRoot(["tx", "sign"] + order) }
        #expect(throws: (any Error).self) { try Ballast.parseAsRoot(["tx", "sign"] + order + ["--chain-id", "c", "--wait"]) }
        // Submission reads the chain id from the node unless given, and may wait.
        let online = try Ballast.parseAsRoot(["tx"] + order + ["--wait", "--nonce", "7"])
        let command = try #require(online as? ActionCommand<OrderOptions, SubmitOptions>)
        #expect(command.delivery.wait && command.delivery.chainID == nil && command.delivery.signer.nonce == 7)
    }

    @Test func badArgumentsAreRefusedBeforeAnythingIsSigned() {
        let bad: [[String]] = [
            ["tx", "cancel", "--market", "3", "--key", "a"],                                   // neither --oid nor --cloid
            ["tx", "cancel", "--market", "3", "--oid", "1", "--cloid", "0x000102030405060708090a0b0c0d0e0f", "--key", "a"],
            ["tx", "oracle", "--key", "a"],                                                     // no prices
            ["tx", "mode", "isolated", "--key", "a"],
            ["tx", "order", "--market", "3", "--side", "long", "--price", "1", "--size", "1", "--key", "a"],
            ["tx", "transfer", "--to", "0x12", "--asset", "0", "--amount", "1", "--key", "a"],
        ]
        for args in bad {
            #expect(throws: (any Error).self, "\(args)") { try Ballast.parseAsRoot(args) }
        }
    }
}

/// Any `ActionCommand`, whatever its arguments and delivery, so a test can read the action.
protocol ActionCommandProtocol { func builtAction() throws -> Action }
extension ActionCommand: ActionCommandProtocol {
    func builtAction() throws -> Action { try arguments.action }
}
