import ArgumentParser
import Codec
import BallastCrypto
import Foundation
import Ledger
import Node
import WalletClient

/// `ballast tx`: build, sign, submit and inspect transactions.
///
/// Every action has one argument type (`OrderOptions`, `TransferArguments`, ...) and is
/// offered twice through `ActionCommand`: under `tx sign`, which prints the signed
/// transaction (`SigningOptions`), and under `tx` itself, which submits it to a node
/// (`SubmitOptions`).
struct Tx: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign and submit transactions to a node, sign them offline, decode them.",
        discussion: """
            `ballast tx ACTION ... --key NAME --node URL` signs with a fresh nonce and submits \
            (--wait for the receipt); `ballast tx sign ACTION ... --chain-id ID` only prints the signed \
            transaction. \(amountsHelp)
            """,
        subcommands: [Sign.self, Decode.self] + actionCommands(SubmitOptions.self)
    )

    static let amountsHelp = """
        Amounts and sizes are in the asset's base units (USDC has 6 decimals; BTC, ETH and HYPE 8), \
        prices in USDC base units per whole unit. Asset and market ids are genesis indices.
        """

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a signed transaction (hex) and whether its signature verifies.",
            discussion: "Exit code 0 when the signature verifies (and the chain id matches, if given), 1 otherwise.")
        @Argument(help: "The transaction in hex (with or without 0x); '-' reads standard input.") var hex: String
        @Option(name: .customLong("chain-id"), help: "Also check that the transaction is for this chain.") var chainID: String?
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            try reportingErrors(json: json) {
                let text = hex == "-" ? (readLine(strippingNewline: true) ?? "") : hex
                let tx = try SignedTransaction(canonicalBytes: try Hex.decode(text))
                let verdict: TransactionError?
                do throws(TransactionError) {
                    try tx.verify(chainID: chainID ?? tx.transaction.chainID)
                    verdict = nil
                } catch {
                    verdict = error
                }
                if json {
                    printJSON(DecodedTransaction(tx: tx, verdict: verdict))
                } else {
                    print("id:        0x\(tx.id.hex)")
                    print("chain:     \(tx.transaction.chainID)")
                    print("signer:    \(tx.transaction.signer.hex)")
                    print("sender:    \(tx.transaction.sender)")
                    print("nonce:     \(tx.transaction.nonce)")
                    print("action:    \(compactJSON(tx.transaction.action))")
                    print("signature: \(verdict.map { "INVALID: \($0)" } ?? "valid")")
                }
                if verdict != nil { throw ExitCode.failure }
            }
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a transaction with a local key and print it; no node is needed.",
            discussion: amountsHelp,
            subcommands: actionCommands(SigningOptions.self)
        )
    }
}

/// One command per action, each delivering the signed transaction with `Delivery`.
func actionCommands<Delivery: ActionDelivery>(_: Delivery.Type) -> [ParsableCommand.Type] {
    [
        ActionCommand<OrderOptions, Delivery>.self, ActionCommand<CancelOptions, Delivery>.self,
        ActionCommand<CancelAllArguments, Delivery>.self, ActionCommand<TransferArguments, Delivery>.self,
        ActionCommand<SupplyArguments, Delivery>.self, ActionCommand<WithdrawArguments, Delivery>.self,
        ActionCommand<BorrowArguments, Delivery>.self, ActionCommand<RepayArguments, Delivery>.self,
        ActionCommand<LiquidateArguments, Delivery>.self, ActionCommand<ModeArguments, Delivery>.self,
        ActionCommand<OracleArguments, Delivery>.self, ActionCommand<JSONActionArguments, Delivery>.self,
    ]
}

/// The arguments of one action, and the action they make.
protocol ActionArguments: ParsableArguments {
    static var commandName: String { get }
    static var abstract: String { get }
    static var discussion: String { get }
    var action: Action { get throws }
}

extension ActionArguments {
    static var discussion: String { "" }
}

/// What happens to a signed action: printed (`tx sign`) or submitted (`tx`).
protocol ActionDelivery: ParsableArguments {
    /// Whether output (and errors) are JSON.
    var json: Bool { get }
    func deliver(_ action: Action) async throws
}

/// `ballast tx [sign] NAME`: the action `Arguments` make, delivered by `Delivery`.
struct ActionCommand<Arguments: ActionArguments, Delivery: ActionDelivery>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: Arguments.commandName, abstract: Arguments.abstract, discussion: Arguments.discussion)
    }

    @OptionGroup var arguments: Arguments
    @OptionGroup var delivery: Delivery

    func run() async throws {
        try await reportingErrors(json: delivery.json) {
            try await delivery.deliver(try arguments.action)
        }
    }
}

/// The key that signs and the nonce: shared by offline signing and submission.
struct SignerOptions: ParsableArguments {
    @OptionGroup var wallet: WalletOptions

    @Option(name: .long, help: "Name of the key that signs.") var key: String
    @Option(name: .long, help: "Nonce (default: now in milliseconds, the Hyperliquid rule).") var nonce: UInt64?

    /// `action` signed by `key` for `chainID`, with `nonce` or the current time in milliseconds.
    func sign(_ action: Action, chainID: String) throws -> SignedTransaction {
        guard chainID.utf8.count <= Transaction.maxChainIDLength, !chainID.isEmpty else {
            throw UserError("chain id must be 1 to \(Transaction.maxChainIDLength) bytes")
        }
        let signingKey = try wallet.keyring.load(name: key)
        let nonce = self.nonce ?? UInt64(Date().timeIntervalSince1970 * 1000)
        return Transaction(chainID: chainID, signer: signingKey.publicKey, nonce: nonce, action: action).signed(with: signingKey)
    }
}

/// `tx sign`: key, chain and nonce; prints the signed transaction.
struct SigningOptions: ActionDelivery {
    @OptionGroup var signer: SignerOptions
    @Option(name: .customLong("chain-id"), help: "Chain id the transaction is for.") var chainID: String

    var json: Bool { signer.wallet.json }

    func deliver(_ action: Action) async throws { try signAndPrint(action) }

    /// Signs `action` and prints the transaction: hex, or its JSON form with id and hex.
    func signAndPrint(_ action: Action) throws {
        let tx = try signer.sign(action, chainID: chainID)
        if json {
            printJSON(SignedOutput(id: "0x" + tx.id.hex, hex: Hex.encode(tx.canonicalBytes), tx: tx))
        } else {
            print(Hex.encode(tx.canonicalBytes))
        }
    }
}

/// `tx ACTION`: signs with a fresh nonce and submits to a node.
struct SubmitOptions: ActionDelivery {
    @OptionGroup var signer: SignerOptions
    @OptionGroup var node: NodeOption
    @Option(name: .customLong("chain-id"), help: "Chain id (default: the node's, from /v1/status).") var chainID: String?
    @Flag(name: .long, help: "Wait until the transaction commits and print its receipt (exit code 1 if the ledger rejected it, 2 if still pending after the node's wait).")
    var wait = false

    var json: Bool { signer.wallet.json }

    func deliver(_ action: Action) async throws {
        let client = try node.client()
        let chain: String
        if let chainID { chain = chainID } else { chain = try await client.status().chainId }
        let tx = try signer.sign(action, chainID: chain)
        let answer = try await client.submit(tx.canonicalBytes, wait: wait).answer
        if json {
            printJSON(answer)
        } else if wait {
            // Order results read better in whole units; that needs the markets' decimals.
            var units: Units?
            var markets: [MarketID] = []
            if case .placeOrders(let orders) = action, answer.receipt != nil {
                units = try? Units(await client.get("/v1/params", as: ChainParameters.self))
                markets = orders.map(\.market)
            }
            print(Report.transaction(answer, units: units, orderMarkets: markets))
        } else {
            print(answer.txId)
        }
        if let receipt = answer.receipt, !receipt.ok { throw ExitCode.failure }
        if wait && answer.receipt == nil {
            FileHandle.standardError.write(Data("not committed yet; check later with `ballast query tx \(answer.txId)`\n".utf8))
            throw ExitCode(2)
        }
    }
}

private struct SignedOutput: Encodable {
    var id: String
    var hex: String
    var tx: SignedTransaction
}

private struct DecodedTransaction: Encodable {
    var id: String
    var sender: String
    var tx: SignedTransaction
    var signatureValid: Bool
    var error: String?

    init(tx: SignedTransaction, verdict: TransactionError?) {
        id = "0x" + tx.id.hex
        sender = tx.transaction.sender.description
        self.tx = tx
        signatureValid = verdict == nil
        error = verdict?.description
    }
}

private func compactJSON<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(value) else { return "?" }
    return String(decoding: data, as: UTF8.self)
}

// MARK: - Argument types

extension Side: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    // Help shows the names the parser takes, not the raw wire values.
    public static var allValueStrings: [String] { allCases.map(\.name) }
    public var defaultValueDescription: String { name }
}
extension TimeInForce: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.name) }
    public var defaultValueDescription: String { name }
}
extension MarginMode: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.name) }
    public var defaultValueDescription: String { name }
}
extension Address: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(hex: argument) }
}
extension ClientOrderID: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(hex: argument) }
}

/// `ASSET=PRICE`, for oracle submissions.
struct AssetPrice: ExpressibleByArgument {
    let value: OraclePrice
    init?(argument: String) {
        let parts = argument.split(separator: "=")
        guard parts.count == 2, let asset = AssetID(parts[0]), let price = Int64(parts[1]) else { return nil }
        value = OraclePrice(asset: asset, price: price)
    }
}

// MARK: - Action arguments (each used by `tx sign NAME` and `tx NAME`)

struct OrderOptions: ActionArguments {
    static let commandName = "order", abstract = "Place a limit order."
    @Option(help: "Market id.") var market: MarketID
    @Option(help: "buy or sell.") var side: Side
    @Option(help: "Limit price, USDC base units per whole unit.") var price: Int64
    @Option(help: "Size in base units of the market's base asset.") var size: Int64
    @Option(help: "Time in force: gtc, ioc or alo (post-only).") var tif: TimeInForce = .gtc
    @Flag(name: .customLong("reduce-only"), help: "Only reduce an existing position.") var reduceOnly = false
    @Option(help: "Client order id, 16 bytes hex.") var cloid: ClientOrderID?

    var action: Action {
        .placeOrders([OrderRequest(market: market, side: side, price: price, size: size,
                                   timeInForce: tif, reduceOnly: reduceOnly, clientID: cloid)])
    }
}

struct CancelOptions: ActionArguments {
    static let commandName = "cancel", abstract = "Cancel an order by id or client id."
    @Option(help: "Market id.") var market: MarketID
    @Option(help: "Order id to cancel.") var oid: OrderID?
    @Option(help: "Client order id to cancel.") var cloid: ClientOrderID?

    func validate() throws {
        guard (oid == nil) != (cloid == nil) else { throw ValidationError("give exactly one of --oid and --cloid") }
    }

    var action: Action {
        if let oid { return .cancel([.order(market: market, orderID: oid)]) }
        return .cancel([.client(market: market, clientID: cloid ?? .zero)])
    }
}

struct AssetAmountOptions: ParsableArguments {
    @Option(help: "Asset id (0 is USDC).") var asset: AssetID
    @Option(help: "Amount in the asset's base units.") var amount: Int64
}

struct TransferArguments: ActionArguments {
    static let commandName = "transfer", abstract = "Send wallet funds to another address."
    @Option(help: "Recipient address (0x + 40 hex digits).") var to: Address
    @OptionGroup var amount: AssetAmountOptions
    var action: Action { .transfer(to: to, asset: amount.asset, amount: amount.amount) }
}

struct SupplyArguments: ActionArguments {
    static let commandName = "supply", abstract = "Supply wallet funds to the lending pool."
    @OptionGroup var amount: AssetAmountOptions
    var action: Action { .supply(asset: amount.asset, amount: amount.amount) }
}

struct WithdrawArguments: ActionArguments {
    static let commandName = "withdraw", abstract = "Move supplied funds back to the wallet."
    @OptionGroup var amount: AssetAmountOptions
    var action: Action { .withdraw(asset: amount.asset, amount: amount.amount) }
}

struct BorrowArguments: ActionArguments {
    static let commandName = "borrow", abstract = "Borrow from the lending pool."
    @OptionGroup var amount: AssetAmountOptions
    var action: Action { .borrow(asset: amount.asset, amount: amount.amount) }
}

struct RepayArguments: ActionArguments {
    static let commandName = "repay", abstract = "Repay a borrow."
    @OptionGroup var amount: AssetAmountOptions
    var action: Action { .repay(asset: amount.asset, amount: amount.amount) }
}

struct CancelAllArguments: ActionArguments {
    static let commandName = "cancel-all", abstract = "Cancel all open orders (in one market, or all)."
    @Option(help: "Only this market.") var market: MarketID?
    var action: Action { .cancelAll(market: market) }
}

struct LiquidateArguments: ActionArguments {
    static let commandName = "liquidate", abstract = "Liquidate an unhealthy account."
    @Option(help: "Address of the account to liquidate.") var target: Address
    var action: Action { .liquidate(target: target) }
}

struct ModeArguments: ActionArguments {
    static let commandName = "mode", abstract = "Switch margin mode (standard or portfolio)."
    @Argument(help: "standard or portfolio.") var mode: MarginMode
    var action: Action { .setMarginMode(mode) }
}

struct OracleArguments: ActionArguments {
    static let commandName = "oracle", abstract = "Submit oracle prices (validators only)."
    @Option(name: .customLong("price"), help: "ASSET=PRICE, repeatable.") var prices: [AssetPrice]

    func validate() throws {
        guard (1...Action.maxBatch).contains(prices.count) else {
            throw ValidationError("give 1 to \(Action.maxBatch) --price ASSET=PRICE options")
        }
    }

    var action: Action { .oraclePrices(prices.map(\.value)) }
}

struct JSONActionArguments: ActionArguments {
    static let commandName = "json", abstract = "Sign any action given in its JSON form, e.g. a batch of orders."
    static let discussion = #"Example: ballast tx sign json '{"type":"order","orders":[{"market":3,"side":"buy","price":62000000000,"size":1000000}]}' --key alice --chain-id ballast-testnet"#
    @Argument(help: ArgumentHelp("The action as JSON; '-' reads standard input.", valueName: "action")) var actionJSON: String

    var action: Action {
        get throws {
            let text = actionJSON == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : actionJSON
            do { return try JSONDecoder().decode(Action.self, from: Data(text.utf8)) } catch {
                throw UserError("action JSON: \(describeJSONError(error))")
            }
        }
    }
}
