import Codec

extension OrderBook: Canonical {
    /// Format version of the encoding below.
    public static let encodingVersion: UInt8 = 1
    /// Most orders one side of an encoded book may hold.
    public static let maxEncodedOrdersPerSide = 50_000_000

    /// Layout: version (u8), market (u32), bids (LEB128 count, then each
    /// `BookOrder`), asks (likewise), each side in `forEachOrder` order.
    public func encode(to w: inout ByteWriter) {
        w.write(OrderBook.encodingVersion)
        w.write(market)
        for side in [Side.buy, .sell] {
            w.writeLength(side == .buy ? bidCount : askCount)
            forEachOrder(on: side) { $0.encode(to: &w) }
        }
    }

    /// Reads a book and refuses any byte string `encode` would not have written:
    /// orders out of canonical order, on the wrong side, with a price or size
    /// not above zero, duplicate ids or client ids, or a crossed book.
    public init(from r: inout ByteReader) throws(CodecError) {
        let version = try r.readUInt8()
        guard version == OrderBook.encodingVersion else {
            throw .unsupportedVersion(type: "OrderBook", version: version)
        }
        self.init(market: try r.readUInt32())
        for side in [Side.buy, .sell] {
            let field = side == .buy ? "book.bids" : "book.asks"
            let n = try r.readLength(field: field, maximum: OrderBook.maxEncodedOrdersPerSide)
            var previous: BookOrder?
            for _ in 0..<n {
                let order: BookOrder = try r.read()
                guard order.side == side else {
                    throw .invalidValue(field: field, reason: "order \(order.id) is on the other side")
                }
                if let p = previous {
                    let better = side == .buy ? p.price > order.price : p.price < order.price
                    guard better || (p.price == order.price && p.id < order.id) else {
                        throw .invalidValue(field: field, reason: "order \(order.id) is out of price-time order")
                    }
                }
                do { try insert(order) } catch {
                    throw .invalidValue(field: field, reason: "order \(order.id): \(error)")
                }
                previous = order
            }
        }
    }

    /// Orders resting on the bid side.
    var bidCount: Int { bidIndex.slots.reduce(0) { $0 + Int(levels[Int($1)].count) } }
    /// Orders resting on the ask side.
    var askCount: Int { askIndex.slots.reduce(0) { $0 + Int(levels[Int($1)].count) } }
}
