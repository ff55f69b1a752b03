import Codec
import BallastCrypto

/// The central limit order book of one market: price-time priority, pure and
/// deterministic.
///
/// Storage, chosen for the ledger's hot path:
/// - orders live in an array-backed node pool (with a free list) and are linked
///   into a FIFO per price level and into a per-owner list, so removing any
///   order is O(1) once found;
/// - each side keeps its price levels in a sorted array with the best level
///   last, so the best price is O(1), a price is found by binary search and
///   levels near the top are added or dropped with little memory movement;
/// - an order id maps to its node through `OrderIndex` (a fixed-hash table),
///   an (owner, client id) and an owner through dictionaries. All are used for
///   lookup only and never iterated, so no hash seed can change any result.
///
/// The pool and the owner slots grow to the book's high-water mark and are
/// reused, not shrunk. A book holds at most 2^31 orders (Int32 slots).
///
/// Performance (release, one core, 14 books, 10,000 owners, about 100,000
/// resting orders, 45% rests / 22% crossing IOC / 33% cancels): about 0.65 to
/// 1 us per operation, dominated by cache misses on the pool and the maps.
///
/// The ledger may call `plan` on `books[m]` (or on a copy of it) with a
/// closure that reads its own state; copying a book is cheap until one copy
/// is changed, which then copies its storage.
///
/// Within a level orders are kept in ascending order id (the ledger assigns ids
/// from a rising counter, so this is time order). The book's whole state is
/// therefore the set of its resting orders: `orders`, `==`, the canonical
/// encoding and every operation depend on nothing else.
///
/// Invariants: every resting order has price > 0 and size > 0; the book is
/// never crossed (best bid < best ask); order ids are unique, and so are
/// (owner, client id) pairs.
public struct OrderBook: Sendable {
    /// The market this book belongs to.
    public let market: MarketID

    @usableFromInline var nodes: [Node] = []
    @usableFromInline var freeNode: Int32 = Node.none
    @usableFromInline var levels: [Level] = []
    @usableFromInline var freeLevel: Int32 = Node.none
    /// Bid levels keyed by price, ascending: best (highest) last.
    @usableFromInline var bidIndex = LevelIndex()
    /// Ask levels keyed by -price, ascending: best (lowest) last.
    @usableFromInline var askIndex = LevelIndex()
    @usableFromInline var nodeByID = OrderIndex()
    @usableFromInline var nodeByClient: [ClientKey: Int32] = [:]
    /// Each owner's list of orders. A slot, once given to an owner, stays theirs
    /// (an empty list costs a few bytes), so nodes can point at it and removing
    /// an order needs no lookup by address.
    @usableFromInline var ownerLists: [OwnerList] = []
    @usableFromInline var ownerSlotByAddress: [Address: Int32] = [:]
    /// Bumped by every mutation, so a `MatchPlan` can tell that it is stale.
    /// Not part of the book's state (not encoded, not compared).
    @usableFromInline var revision: UInt64 = 0

    /// An empty book for `market`.
    public init(market: MarketID) { self.market = market }

    // MARK: Queries

    /// Number of resting orders.
    @inlinable public var count: Int { nodeByID.count }
    /// Whether no order rests.
    @inlinable public var isEmpty: Bool { nodeByID.count == 0 }

    /// Highest resting buy price.
    @inlinable public var bestBid: Int64? { bidIndex.slots.last.map { levels[Int($0)].price } }
    /// Lowest resting sell price.
    @inlinable public var bestAsk: Int64? { askIndex.slots.last.map { levels[Int($0)].price } }

    /// Best price on `side`'s resting side.
    @inlinable public func bestPrice(_ side: Side) -> Int64? { side == .buy ? bestBid : bestAsk }

    /// The resting order with id `id`.
    @inlinable
    public func order(id: OrderID) -> BookOrder? {
        guard let n = nodeByID[id] else { return nil }
        return nodes[Int(n)].order
    }

    /// `owner`'s resting order with client id `clientID`.
    @inlinable
    public func order(owner: Address, clientID: ClientOrderID) -> BookOrder? {
        guard let n = nodeByClient[ClientKey(owner: owner, clientID: clientID)] else { return nil }
        return nodes[Int(n)].order
    }

    /// How many orders `owner` has resting here. O(1).
    @inlinable
    public func openOrderCount(owner: Address) -> Int {
        guard let slot = ownerSlotByAddress[owner] else { return 0 }
        return ownerLists[Int(slot)].count
    }

    /// `owner`'s resting orders, ascending by id.
    public func orders(owner: Address) -> [BookOrder] {
        var out: [BookOrder] = []
        guard let slot = ownerSlotByAddress[owner] else { return out }
        let list = ownerLists[Int(slot)]
        out.reserveCapacity(list.count)
        var n = list.head
        while n != Node.none {
            out.append(nodes[Int(n)].order)
            n = nodes[Int(n)].ownerNext
        }
        return out
    }

    /// Calls `body` on every resting order in the book's canonical order: bids
    /// from the best (highest) price down, then asks from the best (lowest) price
    /// up; within a price, ascending id (time). The state root and the snapshot
    /// use this order.
    @inlinable
    public func forEachOrder<E: Error>(_ body: (BookOrder) throws(E) -> Void) throws(E) {
        try forEachOrder(on: .buy, body)
        try forEachOrder(on: .sell, body)
    }

    /// Calls `body` on the orders of one side, best price first, then by time.
    @inlinable
    public func forEachOrder<E: Error>(on side: Side, _ body: (BookOrder) throws(E) -> Void) throws(E) {
        let index = side == .buy ? bidIndex : askIndex
        var i = index.slots.count - 1
        while i >= 0 {
            var n = levels[Int(index.slots[i])].head
            while n != Node.none {
                try body(nodes[Int(n)].order)
                n = nodes[Int(n)].next
            }
            i -= 1
        }
    }

    /// Every resting order, in the order of `forEachOrder`.
    public var orders: [BookOrder] {
        var out: [BookOrder] = []
        out.reserveCapacity(count)
        forEachOrder { out.append($0) }
        return out
    }

    // MARK: Insert

    /// Rests `order` (a GTC or ALO remainder) behind the orders already at its
    /// price with lower ids.
    ///
    /// Refused, with the book unchanged, when the price or size is not positive,
    /// the id is already resting, the owner already rests an order with the same
    /// client id, the order would cross the opposite side, or the total size at
    /// its price would overflow.
    public mutating func insert(_ order: BookOrder) throws(BookError) {
        guard order.price > 0 else { throw .priceNotPositive(order.price) }
        guard order.size > 0 else { throw .sizeNotPositive(order.size) }
        guard nodeByID[order.id] == nil else { throw .duplicateOrderID(order.id) }
        if let cid = order.clientID, nodeByClient[ClientKey(owner: order.owner, clientID: cid)] != nil {
            throw .duplicateClientID(cid)
        }
        if let opposite = bestPrice(OrderBook.opposite(of: order.side)),
           OrderBook.crosses(side: order.side, limit: order.price, resting: opposite) {
            throw .wouldCross(opposite: opposite)
        }
        let key = LevelIndex.key(price: order.price, side: order.side)
        let found = order.side == .buy ? bidIndex.find(key) : askIndex.find(key)
        if let slot = found, levels[Int(slot)].size.addingReportingOverflow(order.size).overflow {
            throw .levelSizeOverflow(price: order.price)
        }

        insertValidated(order, key: key, level: found)
    }

    /// Rests an order that passed `insert`'s checks; `level` is its price level if one exists.
    @usableFromInline
    mutating func insertValidated(_ order: BookOrder, key: Int64, level found: Int32?) {
        revision &+= 1
        let level: Int32
        if let slot = found {
            level = slot
        } else {
            level = allocateLevel(Level(price: order.price))
            if order.side == .buy { bidIndex.insert(key, slot: level) } else { askIndex.insert(key, slot: level) }
        }
        let n = allocateNode(Node(order: order, level: level, owner: ownerSlot(for: order.owner)))
        nodeByID.insert(order.id, n)
        if let cid = order.clientID { nodeByClient[ClientKey(owner: order.owner, clientID: cid)] = n }
        linkIntoLevel(n, level: level)
        linkIntoOwner(n)
    }

    // MARK: Cancel

    /// Removes the order with id `id` and returns it, or nil when none rests.
    @discardableResult
    public mutating func cancel(id: OrderID) -> BookOrder? {
        guard let n = nodeByID[id] else { return nil }
        revision &+= 1
        return remove(n)
    }

    /// Removes `owner`'s order with client id `clientID` and returns it, or nil.
    @discardableResult
    public mutating func cancel(owner: Address, clientID: ClientOrderID) -> BookOrder? {
        guard let n = nodeByClient[ClientKey(owner: owner, clientID: clientID)] else { return nil }
        revision &+= 1
        return remove(n)
    }

    /// Removes all of `owner`'s orders and returns them, ascending by id.
    /// (Across markets, the ledger calls this per market in ascending market id.)
    @discardableResult
    public mutating func cancelAll(owner: Address) -> [BookOrder] {
        guard let slot = ownerSlotByAddress[owner], ownerLists[Int(slot)].count > 0 else { return [] }
        let list = ownerLists[Int(slot)]
        revision &+= 1
        var out: [BookOrder] = []
        out.reserveCapacity(list.count)
        var n = list.head
        while n != Node.none {
            let next = nodes[Int(n)].ownerNext
            out.append(remove(n))
            n = next
        }
        return out
    }

    /// Removes all of `owner`'s orders from every book in `books`, in the
    /// array's order and by ascending id within a book, and returns them in
    /// that order (the ledger keeps its books indexed by market id).
    @discardableResult
    public static func cancelAll(owner: Address, in books: inout [OrderBook]) -> [BookOrder] {
        var out: [BookOrder] = []
        for i in books.indices where books[i].openOrderCount(owner: owner) > 0 {
            out += books[i].cancelAll(owner: owner)
        }
        return out
    }

    /// Lowers the size of order `id` to `size`, keeping its place in the queue
    /// (a reduce-only order whose position shrank). Returns the order as it
    /// now rests, or nil, changing nothing, when no such order rests or `size`
    /// is not in 1 ..< its current size.
    @discardableResult
    public mutating func shrink(id: OrderID, to size: Int64) -> BookOrder? {
        guard let n = nodeByID[id], size > 0, size < nodes[Int(n)].order.size else { return nil }
        revision &+= 1
        reduce(n, by: nodes[Int(n)].order.size - size)
        return nodes[Int(n)].order
    }

    /// Sets the margin the ledger reserves for order `id`; false when no such order rests.
    @discardableResult
    public mutating func setReservedMargin(id: OrderID, to value: Int64) -> Bool {
        guard let n = nodeByID[id] else { return false }
        revision &+= 1
        nodes[Int(n)].order.reservedMargin = value
        return true
    }

    // MARK: Node and level plumbing

    @usableFromInline
    mutating func allocateNode(_ node: Node) -> Int32 {
        if freeNode != Node.none {
            let n = freeNode
            freeNode = nodes[Int(n)].next
            nodes[Int(n)] = node
            return n
        }
        nodes.append(node)
        return Int32(nodes.count - 1)
    }

    @usableFromInline
    mutating func allocateLevel(_ level: Level) -> Int32 {
        if freeLevel != Node.none {
            let l = freeLevel
            freeLevel = levels[Int(l)].head
            levels[Int(l)] = level
            return l
        }
        levels.append(level)
        return Int32(levels.count - 1)
    }

    /// Links node `n` into its level's FIFO at its id's position (almost always the tail).
    @usableFromInline
    mutating func linkIntoLevel(_ n: Int32, level l: Int32) {
        let id = nodes[Int(n)].order.id
        var after = levels[Int(l)].tail
        while after != Node.none && nodes[Int(after)].order.id > id { after = nodes[Int(after)].prev }
        let before = after == Node.none ? levels[Int(l)].head : nodes[Int(after)].next
        nodes[Int(n)].prev = after
        nodes[Int(n)].next = before
        if after == Node.none { levels[Int(l)].head = n } else { nodes[Int(after)].next = n }
        if before == Node.none { levels[Int(l)].tail = n } else { nodes[Int(before)].prev = n }
        levels[Int(l)].size += nodes[Int(n)].order.size
        levels[Int(l)].count += 1
    }

    /// The slot of `owner`'s list, created on first use.
    @usableFromInline
    mutating func ownerSlot(for owner: Address) -> Int32 {
        if let slot = ownerSlotByAddress[owner] { return slot }
        ownerLists.append(OwnerList())
        let slot = Int32(ownerLists.count - 1)
        ownerSlotByAddress[owner] = slot
        return slot
    }

    /// Links node `n` into its owner's list at its id's position (almost always the tail).
    @usableFromInline
    mutating func linkIntoOwner(_ n: Int32) {
        let id = nodes[Int(n)].order.id
        let o = Int(nodes[Int(n)].owner)
        var after = ownerLists[o].tail
        while after != Node.none && nodes[Int(after)].order.id > id { after = nodes[Int(after)].ownerPrev }
        let before = after == Node.none ? ownerLists[o].head : nodes[Int(after)].ownerNext
        nodes[Int(n)].ownerPrev = after
        nodes[Int(n)].ownerNext = before
        if after == Node.none { ownerLists[o].head = n } else { nodes[Int(after)].ownerNext = n }
        if before == Node.none { ownerLists[o].tail = n } else { nodes[Int(before)].ownerPrev = n }
        ownerLists[o].count += 1
    }

    /// Unlinks node `n` from every structure, frees it and returns its order.
    @usableFromInline
    mutating func remove(_ n: Int32) -> BookOrder {
        let node = nodes[Int(n)]
        let order = node.order
        // Level FIFO.
        let l = node.level
        if node.prev == Node.none { levels[Int(l)].head = node.next } else { nodes[Int(node.prev)].next = node.next }
        if node.next == Node.none { levels[Int(l)].tail = node.prev } else { nodes[Int(node.next)].prev = node.prev }
        levels[Int(l)].size -= order.size
        levels[Int(l)].count -= 1
        if levels[Int(l)].count == 0 {
            let key = LevelIndex.key(price: order.price, side: order.side)
            if order.side == .buy { bidIndex.remove(key) } else { askIndex.remove(key) }
            levels[Int(l)].head = freeLevel
            freeLevel = l
        }
        // Owner list.
        let o = Int(node.owner)
        if node.ownerPrev == Node.none { ownerLists[o].head = node.ownerNext } else { nodes[Int(node.ownerPrev)].ownerNext = node.ownerNext }
        if node.ownerNext == Node.none { ownerLists[o].tail = node.ownerPrev } else { nodes[Int(node.ownerNext)].ownerPrev = node.ownerPrev }
        ownerLists[o].count -= 1
        // Lookups.
        nodeByID.remove(order.id)
        if let cid = order.clientID { nodeByClient[ClientKey(owner: order.owner, clientID: cid)] = nil }
        nodes[Int(n)].next = freeNode
        freeNode = n
        return order
    }

    /// Takes `size` (less than the order's size) off node `n` in place, keeping its priority.
    @usableFromInline
    mutating func reduce(_ n: Int32, by size: Int64) {
        nodes[Int(n)].order.size -= size
        levels[Int(nodes[Int(n)].level)].size -= size
    }
}

extension OrderBook: Equatable {
    /// Two books are equal when they belong to the same market and hold the same
    /// orders (which fixes their priority too).
    public static func == (a: OrderBook, b: OrderBook) -> Bool {
        a.market == b.market && a.count == b.count && a.orders == b.orders
    }
}

// MARK: - Storage types

/// One slot of the node pool: an order and its links.
@usableFromInline
struct Node: Sendable {
    @usableFromInline static let none: Int32 = -1
    @usableFromInline var order: BookOrder
    /// Slot of the price level holding the order.
    @usableFromInline var level: Int32
    /// Slot of the owner's list.
    @usableFromInline var owner: Int32
    @usableFromInline var prev: Int32 = Node.none
    /// Next in the level FIFO; in a free node, the next free node.
    @usableFromInline var next: Int32 = Node.none
    @usableFromInline var ownerPrev: Int32 = Node.none
    @usableFromInline var ownerNext: Int32 = Node.none

    @usableFromInline
    init(order: BookOrder, level: Int32, owner: Int32) {
        self.order = order
        self.level = level
        self.owner = owner
    }
}

/// One price level: a FIFO of nodes and its totals.
@usableFromInline
struct Level: Sendable {
    @usableFromInline var price: Int64
    /// First node; in a free level, the next free level.
    @usableFromInline var head: Int32 = Node.none
    @usableFromInline var tail: Int32 = Node.none
    /// Sum of the sizes resting at this price.
    @usableFromInline var size: Int64 = 0
    @usableFromInline var count: Int32 = 0

    @usableFromInline init(price: Int64) { self.price = price }
}

/// The head and tail of one owner's orders in one book, ascending by id.
@usableFromInline
struct OwnerList: Sendable {
    @usableFromInline var head: Int32 = Node.none
    @usableFromInline var tail: Int32 = Node.none
    @usableFromInline var count: Int = 0
    @usableFromInline init() {}
}

@usableFromInline
struct ClientKey: Hashable, Sendable {
    @usableFromInline var owner: Address
    @usableFromInline var clientID: ClientOrderID
    @usableFromInline init(owner: Address, clientID: ClientOrderID) {
        self.owner = owner
        self.clientID = clientID
    }

    /// Both parts' keyed word hash (see `FixedBytes._rawHashValue`), not SipHash.
    @usableFromInline func _rawHashValue(seed: Int) -> Int {
        clientID._rawHashValue(seed: owner._rawHashValue(seed: seed))
    }
}

/// The price levels of one side, as a sorted array of keys with the best last.
/// Keys are the price for bids and -price for asks (prices are > 0, so
/// negation cannot overflow), which makes "better" always "greater".
@usableFromInline
struct LevelIndex: Sendable {
    @usableFromInline var keys: [Int64] = []
    @usableFromInline var slots: [Int32] = []

    @usableFromInline init() {}

    @inlinable
    static func key(price: Int64, side: Side) -> Int64 { side == .buy ? price : -price }

    /// The first position whose key is >= `key`.
    @inlinable
    func lowerBound(_ key: Int64) -> Int {
        var lo = 0
        var hi = keys.count
        // Most activity is at the top of the book, which is the end of the array.
        if hi > 0 && keys[hi - 1] < key { return hi }
        while lo < hi {
            let mid = (lo + hi) >> 1
            if keys[mid] < key { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    @inlinable
    func find(_ key: Int64) -> Int32? {
        let i = lowerBound(key)
        return i < keys.count && keys[i] == key ? slots[i] : nil
    }

    @inlinable
    mutating func insert(_ key: Int64, slot: Int32) {
        let i = lowerBound(key)
        keys.insert(key, at: i)
        slots.insert(slot, at: i)
    }

    @inlinable
    mutating func remove(_ key: Int64) {
        let i = lowerBound(key)
        keys.remove(at: i)
        slots.remove(at: i)
    }
}

extension OrderBook {
    /// The other side.
    @inlinable
    public static func opposite(of side: Side) -> Side { side == .buy ? .sell : .buy }

    /// Whether an order on `side` with limit `limit` trades against a resting
    /// order on the other side at `resting`.
    @inlinable
    public static func crosses(side: Side, limit: Int64, resting: Int64) -> Bool {
        side == .buy ? resting <= limit : resting >= limit
    }
}
