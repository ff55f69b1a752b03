import ArgumentParser
import Codec
import BallastCrypto
import Foundation
import Ledger

/// `ballast tx`: build, sign and inspect transactions.
struct Tx: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign transactions offline and decode them.",
        subcommands: [Sign.self, Decode.self]
    )

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
            discussion: """
                Amounts and sizes are in the asset's base units (USDC has 6 decimals; BTC, ETH and HYPE 8), \
                prices in USDC base units per whole unit. Asset and market ids are genesis indices.
                """,
            subcommands: [
                SignOrder.self, SignCancel.self, SignCancelAll.self, SignTransfer.self,
                SignSupply.self, SignWithdraw.self, SignBorrow.self, SignRepay.self,
                SignLiquidate.self, SignMode.self, SignOracle.self, SignJSON.self,
            ]
        )
    }
}

/// Key, chain and nonce for signing.
struct SigningOptions: ParsableArguments {
    @OptionGroup var wallet: WalletOptions

    @Option(name: .long, help: "Name of the key that signs.") var key: String
    @Option(name: .customLong("chain-id"), help: "Chain id the transaction is for.") var chainID: String
    @Option(name: .long, help: "Nonce (default: now in milliseconds, the Hyperliquid rule).") var nonce: UInt64?

    /// Signs `action` and prints the transaction.
    func signAndPrint(_ action: Action) throws {
        try reportingErrors(json: wallet.json) {
            guard chainID.utf8.count <= Transaction.maxChainIDLength, !chainID.isEmpty else {
                throw UserError("chain id must be 1 to \(Transaction.maxChainIDLength) bytes")
            }
            let signingKey = try wallet.keyring.load(name: key)
            let nonce = self.nonce ?? UInt64(Date().timeIntervalSince1970 * 1000)
            let tx = Transaction(chainID: chainID, signer: signingKey.publicKey, nonce: nonce, action: action)
                .signed(with: signingKey)
            if wallet.json {
                printJSON(SignedOutput(id: "0x" + tx.id.hex, hex: Hex.encode(tx.canonicalBytes), tx: tx))
            } else {
                print(Hex.encode(tx.canonicalBytes))
            }
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
}
extension TimeInForce: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
}
extension MarginMode: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
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

// MARK: - Action options (shared by offline signing and, later, the online wallet commands)

struct OrderOptions: ParsableArguments {
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

struct CancelOptions: ParsableArguments {
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

struct SignOrder: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "order", abstract: "Place a limit order.")
    @OptionGroup var order: OrderOptions
    @OptionGroup var signing: SigningOptions
    func run() throws { try signing.signAndPrint(order.action) }
}

struct SignCancel: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel an order by id or client id.")
    @OptionGroup var cancel: CancelOptions
    @OptionGroup var signing: SigningOptions
    func run() throws { try signing.signAndPrint(cancel.action) }
}

struct SignCancelAll: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel-all", abstract: "Cancel all open orders (in one market, or all).")
    @Option(help: "Only this market.") var market: MarketID?
    @OptionGroup var signing: SigningOptions
    func run() throws { try signing.signAndPrint(.cancelAll(market: market)) }
}

struct SignTransfer: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "transfer", abstract: "Send wallet funds to another address.")
    @Option(help: "Recipient address (0x + 40 hex digits).") var to: Address
    @OptionGroup var amount: AssetAmountOptions
    @OptionGroup var signing: SigningOptions
    func run() throws { try signing.signAndPrint(.transfer(to: to, asset: amount.asset, amount: amount.amount)) }
}

struct SignSupply: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "supply", abstract: "Supply wallet funds to the lending pool.")
    @OptionGroup var amount: AssetAmountOptions
    @OptionGroup var signing: SigningOptions
    func run() throws { try signing.signAndPrint(.supply(asset: amount.asset, amount: amount.amount)) }
}

struct SignWithdraw: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "withdraw", abstract: "Move supplied funds back to the wallet.")
    @OptionGroup var amount: AssetAmountOptions
    @OptionGroup var signing: SigningOptions
    func run() throws { try signing.signAndPrint(.withdraw(asset: amount.asset, amount: amount.amount)) }
}

struct SignBorrow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "borrow", abstract: "Borrow from the lending pool.")
    @OptionGroup var amount: AssetAmountOptions
    @OptionGroup var signing: SigningOptions
    func run() throws { try signing.signAndPrint(.borrow(asset: amount.asset, amount: amount.amount)) }
}

struct SignRepay: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "repay", abstract: "Repay a borrow.")
    @OptionGroup var amount: AssetAmountOptions
    @OptionGroup var signing: SigningOptions
    func run() throws { try signing.signAndPrint(.repay(asset: amount.asset, amount: amount.amount)) }
}

struct SignLiquidate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "liquidate", abstract: "Liquidate an unhealthy account.")
    @Option(help: "Address of the account to liquidate.") var target: Address
    @OptionGroup var signing: SigningOptions
    func run() throws { try signing.signAndPrint(.liquidate(target: target)) }
}

struct SignMode: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mode", abstract: "Switch margin mode (standard or portfolio).")
    @Argument(help: "standard or portfolio.") var mode: MarginMode
    @OptionGroup var signing: SigningOptions
    func run() throws { try signing.signAndPrint(.setMarginMode(mode)) }
}

struct SignOracle: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "oracle", abstract: "Submit oracle prices (validators only).")
    @Option(name: .customLong("price"), help: "ASSET=PRICE, repeatable.") var prices: [AssetPrice]
    @OptionGroup var signing: SigningOptions

    func validate() throws {
        guard (1...Action.maxBatch).contains(prices.count) else {
            throw ValidationError("give 1 to \(Action.maxBatch) --price ASSET=PRICE options")
        }
    }

    func run() throws { try signing.signAndPrint(.oraclePrices(prices.map(\.value))) }
}

struct SignJSON: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "json",
        abstract: "Sign any action given in its JSON form, e.g. a batch of orders.",
        discussion: #"Example: ballast tx sign json '{"type":"order","orders":[{"market":3,"side":"buy","price":62000000000,"size":1000000}]}' --key alice --chain-id ballast-testnet"#)
    @Argument(help: "The action as JSON; '-' reads standard input.") var action: String
    @OptionGroup var signing: SigningOptions

    func run() throws {
        try reportingErrors(json: signing.wallet.json) {
            let text = action == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : action
            let parsed: Action
            do { parsed = try JSONDecoder().decode(Action.self, from: Data(text.utf8)) } catch {
                throw UserError("action JSON: \(describe(decodingError: error))")
            }
            try signing.signAndPrint(parsed)
        }
    }
}

/// A one-line reason for a JSON decoding failure, with the field path.
func describe(decodingError error: Error) -> String {
    guard let error = error as? DecodingError else { return "\(error)" }
    func path(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
    switch error {
    case .dataCorrupted(let c): return c.codingPath.isEmpty ? c.debugDescription : "\(path(c.codingPath)): \(c.debugDescription)"
    case .keyNotFound(let key, let c): return "\(path(c.codingPath + [key])): missing"
    case .typeMismatch(let type, let c): return "\(path(c.codingPath)): expected \(type)"
    case .valueNotFound(let type, let c): return "\(path(c.codingPath)): expected \(type), found null"
    @unknown default: return "\(error)"
    }
}
