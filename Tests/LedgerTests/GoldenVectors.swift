import Codec
import BallastCrypto
import Foundation
import Ledger
import TestSupport
import Testing

/// Golden vectors: for the seed 0x0102...1f20, the public key, the address and one signed
/// transaction of every action type, pinned as hex. docs/wire.md shows the same bytes.
enum Golden {
    static let seed: [UInt8] = Array(1...32)
    static let publicKey = "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664"
    static let address = "0x4d4dbe917544b07922348a66b9c4b5a5a5f34a9f"
    static let chainID = "ballast-testnet"
    static let nonce: UInt64 = 1_764_000_000_000
    static let cloid = ClientOrderID(bytes: Array(UInt8(0)..<16))!
    static let counterparty = Address(bytes: [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99,
                                              0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33])!

    static var key: SigningKey {
        guard let key = try? SigningKey(seed: seed) else { preconditionFailure("32-byte seed") }
        return key
    }

    static func transaction(_ action: Action) -> SignedTransaction {
        Transaction(chainID: chainID, signer: key.publicKey, nonce: nonce, action: action).signed(with: key)
    }

    static let vectors: [(name: String, action: Action, hex: String)] = [
    ("order", .placeOrders([
            OrderRequest(market: 3, side: .buy, price: 62_000_000_000, size: 1_000_000, timeInForce: .gtc, reduceOnly: false, clientID: Golden.cloid),
            OrderRequest(market: 4, side: .sell, price: 3_100_000_000, size: 50_000_000, timeInForce: .ioc, reduceOnly: true),
        ]),
            "010f62616c6c6173742d746573746e657479b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496" +
            "6400e897b69a0100000102030000000000ec7c6f0e00000040420f0000000000000001000102030405060708090a0b0c" +
            "0d0e0f0400000001003fc6b80000000080f0fa020000000001010092a527a5601a4aecd9645c44853bd4d3fa61af6f97" +
            "622e3f67732862771a9bfa08c013b2ba8328fb7eab8e0f704427812ab045202dab83b8227db26cf0336b07"),
    ("cancel", .cancel([.order(market: 3, orderID: 42), .client(market: 3, clientID: Golden.cloid)]),
            "010f62616c6c6173742d746573746e657479b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496" +
            "6400e897b69a010000020200030000002a000000000000000103000000000102030405060708090a0b0c0d0e0f0653be" +
            "5b7554cc8e40082c9d861c0d3304b384ad64ecf462373d0b8a4b8dae5d55847e7f3c67686bcfb31672533542c63c3f75" +
            "c2f88d56dceff6bf4926345401"),
    ("cancelAll", .cancelAll(market: 3),
            "010f62616c6c6173742d746573746e657479b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496" +
            "6400e897b69a010000030103000000f5133bf87ed072ab67244127b96841f63ae66ef3333f962fe7d8d5167cd5c41e8f" +
            "d6e9a7b6c7965fbe75e0ec90c52d4d629e6a62f7973f5b97caef815304f70b"),
    ("transfer", .transfer(to: Golden.counterparty, asset: 0, amount: 250_000_000),
            "010f62616c6c6173742d746573746e657479b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496" +
            "6400e897b69a0100000400112233445566778899aabbccddeeff001122330000000080b2e60e000000004015b7f917f1" +
            "0d5e4c4382b16dc6d1832e91035bd24e3eb836f5cec05e7688c6f8a83cc143159c68725b99d315cb9d7f6edbc8e59136" +
            "c33df93cab6d7794b800"),
    ("supply", .supply(asset: 0, amount: 1_000_000_000),
            "010f62616c6c6173742d746573746e657479b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496" +
            "6400e897b69a010000050000000000ca9a3b0000000014a934771b0cf3be7113eb5532e38a6decb4ab40deff3d711fd7" +
            "e730bb60d6bec3146ed0e05684ebc52a8b2622394928e70da6a1a8a9f5ef1a697bfed39c2902"),
    ("withdraw", .withdraw(asset: 0, amount: 500_000_000),
            "010f62616c6c6173742d746573746e657479b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496" +
            "6400e897b69a01000006000000000065cd1d000000004718687c5cb86502644429b7c5d42b5d397fd33301ce9cd226d9" +
            "c12b46b9db94087269a565b0f0ebaaba93fd1564f1b9633007d56230260db5d6d7f9800de00f"),
    ("borrow", .borrow(asset: 0, amount: 10_000_000_000),
            "010f62616c6c6173742d746573746e657479b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496" +
            "6400e897b69a010000070000000000e40b5402000000dc535519987b279abdf238a99b4f03b969f31018b9314497c055" +
            "6619ef8417ffe8709da59f6b3aa0ded1186ffd4fb95dffbf4cc8688424cd8cee87258aff3608"),
    ("repay", .repay(asset: 0, amount: 5_000_000_000),
            "010f62616c6c6173742d746573746e657479b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496" +
            "6400e897b69a010000080000000000f2052a01000000e4ddd42fd5812a88c45792e3810b5d07ae2cf1d13fc9eb8dc9cc" +
            "5ca8581fe91999c913ed293d00795e61bf716c0d2c190bd90f1339adadcfc342a5a232e66e02"),
    ("liquidate", .liquidate(target: Golden.counterparty),
            "010f62616c6c6173742d746573746e657479b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496" +
            "6400e897b69a0100000900112233445566778899aabbccddeeff00112233767c796a28338f860612a651872f044c5421" +
            "1c60fe8b1b9b4e935881c9a0a7fff7dd14fcde54a4df8a1732f136e8c7fc2709cb65213fc5472884a401fa7b0f0c"),
    ("setMarginMode", .setMarginMode(.portfolio),
            "010f62616c6c6173742d746573746e657479b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496" +
            "6400e897b69a0100000a0113b44391977146ff81b24efcaba11c5b0c00508f9c48df5e8bb6ecfad59cde08634ded3631" +
            "b33efbc0542c993e605db746b95f8974c730426b43621a20592b0b"),
    ("oracle", .oraclePrices([OraclePrice(asset: 1, price: 62_000_000_000), OraclePrice(asset: 2, price: 3_100_000_000)]),
            "010f62616c6c6173742d746573746e657479b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496" +
            "6400e897b69a0100000b020100000000ec7c6f0e00000002000000003fc6b80000000088306f3a6a4c88ed46e46cf788" +
            "a8dea66dfb2ca2d7dfd36d0d6abb66f2659c81339a19ff2c6b2c18cf6124228a79ff86ee7fea434218070e4982b83f91" +
            "233602"),
    ]
}
