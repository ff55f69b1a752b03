import ArgumentParser
import BallastCrypto
import Foundation
import Ledger
import Node
import WalletClient

/// `--node URL`: which node's HTTP API to talk to.
struct NodeOption: ParsableArguments {
    @Option(name: .long, help: "The node's HTTP API, http://HOST:PORT (default: $BALLAST_NODE or http://127.0.0.1:8080).")
    var node: String?

    func client() throws -> NodeClient {
        try NodeClient(url: node ?? ProcessInfo.processInfo.environment["BALLAST_NODE"] ?? "http://127.0.0.1:8080")
    }
}

/// `ballast query`: read a node's state as tables (or its JSON with --json).
struct Query: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read accounts, markets, books, pools, blocks and transactions from a node.",
        discussion: "Amounts are shown with their asset's decimals; --json prints the node's answer unchanged (base units).",
        subcommands: [Account.self, History.self, Status.self, Transaction.self, Markets.self, Book.self, Pools.self, Block.self]
    )

    /// Options of every query.
    struct Options: ParsableArguments {
        @OptionGroup var node: NodeOption
        @Flag(name: .long, help: "Print the node's JSON answer instead of a table.") var json = false

        /// GETs `path` and prints either its raw JSON or `render(decoded answer, units)`.
        func show<T: Decodable>(_ path: String, as: T.Type, render: (T, Units) -> String) async throws {
            try await reportingErrors(json: json) {
                let client = try node.client()
                if json {
                    print(String(decoding: try await client.getJSON(path), as: UTF8.self))
                    return
                }
                let value = try await client.get(path, as: T.self)
                let units = Units(try await client.get("/v1/params", as: ChainParameters.self))
                print(render(value, units))
            }
        }
    }

    struct Account: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An account: balances, positions, open orders, and its portfolio requirement beside the standard-mode one.")
        @Argument(help: "The account's address (0x + 40 hex digits).") var address: Address
        @OptionGroup var options: Options
        func run() async throws {
            try await options.show("/v1/accounts/\(address)", as: AccountSummary.self) { Report.account($0, units: $1) }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An account's history, newest first: fills, funding payments, liquidations, transfers, lending actions.",
            discussion: "Pages of --limit events; the last line names the --before cursor of the next (older) page.")
        @Argument(help: "The account's address (0x + 40 hex digits).") var address: Address
        @Option(help: "Events per page (1 to 1000).") var limit = 50
        @Option(help: "Only events older than this cursor (HEIGHT-SEQUENCE, a previous page's next).") var before: String?
        @OptionGroup var options: Options
        func run() async throws {
            try await options.show(NodeClient.historyPath(address.description, limit: limit, before: before), as: HistoryPage.self) {
                Report.history($0, units: $1)
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The node's height, round, leader, root, peers and mempool.")
        @OptionGroup var options: Options
        func run() async throws {
            try await options.show("/v1/status", as: NodeStatus.self) { status, _ in Report.status(status) }
        }
    }

    struct Transaction: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "tx", abstract: "A transaction: pending, or committed with its receipt.")
        @Argument(help: "The transaction id (0x + 64 hex digits).") var id: String
        @OptionGroup var options: Options
        func run() async throws {
            try await options.show("/v1/tx/\(id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id)", as: TransactionAnswer.self) { answer, _ in Report.transaction(answer) }
        }
    }

    struct Markets: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every market: oracle and mark prices, best bid and ask, open interest, funding.")
        @OptionGroup var options: Options
        func run() async throws {
            try await options.show("/v1/markets", as: [MarketView].self) { Report.markets($0, units: $1) }
        }
    }

    struct Book: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A market's order book, aggregated by price level.")
        @Argument(help: "Market id.") var market: MarketID
        @Option(help: "Levels per side (1 to 500).") var levels = 10
        @OptionGroup var options: Options
        func run() async throws {
            try await options.show("/v1/markets/\(market)/book?levels=\(levels)", as: BookView.self) { Report.book($0, units: $1) }
        }
    }

    struct Pools: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The lending pools: supplied, borrowed, utilization and rates.")
        @OptionGroup var options: Options
        func run() async throws {
            try await options.show("/v1/pools", as: [PoolView].self) { Report.pools($0, units: $1) }
        }
    }

    struct Block: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A committed block and its transaction ids.")
        @Argument(help: "The height, or 'latest'.") var height: String
        @OptionGroup var options: Options
        func run() async throws {
            var resolved = height
            if height == "latest" {
                try await reportingErrors(json: options.json) {
                    resolved = String(try await options.node.client().status().height)
                }
            }
            try await options.show("/v1/blocks/\(resolved)", as: BlockView.self) { block, _ in Report.block(block) }
        }
    }
}
