import BallastCrypto
import Foundation
import Ledger
import Node
import Wallet

/// Creates a cluster's keys, genesis and node homes on first use.
public enum ClusterSetup {
    /// The stake every cluster validator gets: equal stakes, so any 2f+1 form a quorum.
    public static let validatorStake: Int64 = 100

    /// Rewrites a genesis template for new keys: its validators become `validators`
    /// (named validator-0…, equal stake), its faucet address and every balance the old
    /// faucet held move to `faucet`. Every other field is kept as it is; the result is
    /// checked with `NodeHome.parseGenesis`.
    public static func genesis(template: [UInt8], validators: [PublicKey], faucet: Address) throws -> (bytes: [UInt8], genesis: Genesis) {
        guard var json = (try? JSONSerialization.jsonObject(with: Data(template))) as? [String: Any] else {
            throw ClusterError("genesis template: not a JSON object")
        }
        json["validators"] = validators.enumerated().map { i, key -> [String: Any] in
            ["name": ClusterLayout.validatorKeyName(i), "publicKey": "0x" + key.hex, "stake": validatorStake]
        }
        let newFaucet = faucet.description
        if let old = (json["faucet"] as? String)?.lowercased(), let balances = json["balances"] as? [[String: Any]] {
            json["balances"] = balances.map { balance -> [String: Any] in
                guard (balance["address"] as? String)?.lowercased() == old else { return balance }
                var moved = balance
                moved["address"] = newFaucet
                return moved
            }
        }
        json["faucet"] = newFaucet
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        let bytes = [UInt8](data)
        do {
            return (bytes, try NodeHome.parseGenesis(bytes, source: "cluster genesis"))
        } catch {
            throw ClusterError("the cluster genesis is invalid: \(error)")
        }
    }

    /// Makes keys, genesis and homes for `validators` nodes under `layout`, unless the
    /// cluster exists already: then it is reused as it is (the same chain resumes).
    /// Returns the manifest and whether anything was created.
    @discardableResult
    public static func prepare(_ layout: ClusterLayout, validators: Int, templateGenesis: String,
                               p2pBasePort: Int = 26656, rpcBasePort: Int = 8080) throws -> (manifest: ClusterManifest, created: Bool) {
        if FileManager.default.fileExists(atPath: layout.manifestPath) {
            let manifest = try ClusterManifest.load(layout)
            guard manifest.validators == validators else {
                throw ClusterError("the cluster at \(layout.directory) has \(manifest.validators) validators, not \(validators): "
                    + "use --validators \(manifest.validators), another --dir, or `ballast cluster reset` first")
            }
            return (manifest, false)
        }
        guard validators >= 1 else { throw ClusterError("--validators must be at least 1") }
        guard let template = FileManager.default.contents(atPath: templateGenesis) else {
            throw ClusterError("cannot read the genesis template \(templateGenesis)")
        }
        try FileManager.default.createDirectory(atPath: layout.directory, withIntermediateDirectories: true)
        let keyring = Keyring(home: layout.walletHome)
        // A half-made cluster (interrupted first run) keeps the keys it already has.
        func key(_ name: String) throws -> SigningKey {
            if (try? keyring.info(name: name)) == nil { _ = try keyring.create(name: name) }
            return try keyring.load(name: name)
        }
        let validatorKeys = try (0..<validators).map { try key(ClusterLayout.validatorKeyName($0)) }
        let faucet = try key(ClusterLayout.faucetKeyName)
        let (genesisBytes, genesis) = try ClusterSetup.genesis(template: [UInt8](template),
                                                               validators: validatorKeys.map(\.publicKey), faucet: faucet.address)
        try Data(genesisBytes).write(to: URL(fileURLWithPath: layout.genesisPath))
        let manifest = ClusterManifest(validators: validators, p2pBasePort: p2pBasePort, rpcBasePort: rpcBasePort,
                                       chainId: genesis.chainID, faucetAddress: faucet.address.description)
        for i in 0..<validators {
            var config = NodeConfig(moniker: ClusterLayout.validatorKeyName(i))
            config.p2p.listen = manifest.p2pAddress(i)
            config.rpc.listen = manifest.rpcAddress(i)
            config.p2p.peers = (0..<validators).filter { $0 != i }.map {
                NodeConfig.Peer(publicKey: validatorKeys[$0].publicKey.hex, address: manifest.p2pAddress($0))
            }
            // Every wallet command of a user (and a load generator) comes from 127.0.0.1.
            config.rpc.rateLimitPerSecond = 100_000
            config.logLevel = "notice"
            // One crashed or cut-off validator costs two rounds without a QC (the round whose votes
            // it collects, then its own) plus, on an idle chain, the next leader's idle wait:
            // 1 s + 2 x 1.5 s keeps that under the 5 s the end-to-end test allows (2 s rounds made it 5 s).
            config.consensus.roundTimeoutMs = 1_500
            let home = NodeHome(path: layout.home(i))
            if FileManager.default.fileExists(atPath: layout.home(i)) {
                try FileManager.default.removeItem(atPath: layout.home(i))   // a half-made home from an interrupted run
            }
            try home.initialize(genesisBytes: genesisBytes, key: validatorKeys[i], config: config)
        }
        // Written last: its presence means the cluster is complete.
        try manifest.write(layout)
        return (manifest, true)
    }
}
