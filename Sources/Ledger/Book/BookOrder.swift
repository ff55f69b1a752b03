import Codec
import BallastCrypto

/// An order as a book sees it: the incoming (taker) order handed to matching,
/// and the order that rests in the book afterwards.
///
/// `size` is what is left to fill, in base units of the market's base asset;
/// `price` is the limit in USDC base units per whole unit. Time priority is the
/// order id: the ledger assigns ids from a rising chain-wide counter, so within
/// a price level the lower id was placed earlier and fills first.
public struct BookOrder: Hashable, Sendable {
    public var id: OrderID
    public var owner: Address
    public var side: Side
    public var price: Int64
    public var size: Int64
    public var clientID: ClientOrderID?
    public var timeInForce: TimeInForce
    public var reduceOnly: Bool
    /// Margin the ledger reserves for this order while it rests. The book stores
    /// it and never reads it.
    public var reservedMargin: Int64

    public init(id: OrderID, owner: Address, side: Side, price: Int64, size: Int64,
                clientID: ClientOrderID? = nil, timeInForce: TimeInForce = .gtc,
                reduceOnly: Bool = false, reservedMargin: Int64 = 0) {
        self.id = id
        self.owner = owner
        self.side = side
        self.price = price
        self.size = size
        self.clientID = clientID
        self.timeInForce = timeInForce
        self.reduceOnly = reduceOnly
        self.reservedMargin = reservedMargin
    }
}

extension BookOrder: Canonical {
    /// Layout: id (u64), owner (20), side (u8), price (i64), size (i64),
    /// client id (optional 16), time in force (u8), reduce-only (bool),
    /// reserved margin (i64).
    public func encode(to w: inout ByteWriter) {
        w.write(id)
        w.write(owner)
        w.write(side)
        w.write(price)
        w.write(size)
        w.write(clientID)
        w.write(timeInForce)
        w.write(reduceOnly)
        w.write(reservedMargin)
    }

    public init(from r: inout ByteReader) throws(CodecError) {
        id = try r.readUInt64()
        owner = try r.read()
        side = try r.read()
        price = try r.readInt64()
        size = try r.readInt64()
        clientID = try r.readOptional(field: "bookOrder.cloid")
        timeInForce = try r.read()
        reduceOnly = try r.readBool(field: "bookOrder.reduceOnly")
        reservedMargin = try r.readInt64()
    }
}

/// Why the book refused an operation. The book is unchanged whenever one is thrown.
public enum BookError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A price of zero or below.
    case priceNotPositive(Int64)
    /// A size of zero or below.
    case sizeNotPositive(Int64)
    /// The price is not a multiple of the market's tick.
    case priceOffTick(price: Int64, tick: Int64)
    /// The size is not a multiple of the market's lot.
    case sizeOffLot(size: Int64, lot: Int64)
    /// price x size is below the market's minimum notional (USDC base units).
    case belowMinimumNotional(notional: Int128, minimum: Int64)
    /// A post-only (ALO) order, or an order being rested, would trade against
    /// the opposite side at `opposite`.
    case wouldCross(opposite: Int64)
    /// An order with this id is already in the book.
    case duplicateOrderID(OrderID)
    /// The owner already has a resting order with this client id.
    case duplicateClientID(ClientOrderID)
    /// The total size resting at one price would pass Int64.max.
    case levelSizeOverflow(price: Int64)
    /// A match plan was applied to a book that changed after the plan was made.
    case stalePlan
    /// Tick, lot or unit scale of zero or below (a genesis bug, refused, not trapped).
    case invalidRules(String)

    public var description: String {
        switch self {
        case .priceNotPositive(let p): return "price \(p) must be > 0"
        case .sizeNotPositive(let s): return "size \(s) must be > 0"
        case .priceOffTick(let p, let t): return "price \(p) is not a multiple of the tick \(t)"
        case .sizeOffLot(let s, let l): return "size \(s) is not a multiple of the lot \(l)"
        case .belowMinimumNotional(let n, let m): return "notional \(n) is below the minimum \(m)"
        case .wouldCross(let o): return "order would cross the opposite side at \(o)"
        case .duplicateOrderID(let id): return "order id \(id) is already in the book"
        case .duplicateClientID(let c): return "client order id \(c) is already resting"
        case .levelSizeOverflow(let p): return "total size at price \(p) would overflow"
        case .stalePlan: return "the book changed since the match plan was made"
        case .invalidRules(let why): return "invalid market rules: \(why)"
        }
    }
}
