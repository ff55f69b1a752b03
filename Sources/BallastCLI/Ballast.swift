import ArgumentParser

@main
struct Ballast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ballast",
        abstract: "Ballast: a portfolio-margin exchange chain node, wallet and tools.",
        subcommands: [
            Keys.self,
            Tx.self,
            Query.self,
            Bench.self,
            NodeCommand.self,
            Sim.self,
            ClusterCommand.self,
            LedgerCommand.self,
        ]
    )
}
