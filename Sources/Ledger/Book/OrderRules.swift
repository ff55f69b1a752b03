/// A market's price and size grid: the checks an order must pass before it
/// reaches the book. The ledger builds one per market from genesis.
public struct OrderRules: Hashable, Sendable {
    /// Prices are multiples of `tick` (USDC base units per whole unit).
    public var tick: Int64
    /// Sizes are multiples of `lot` (base units).
    public var lot: Int64
    /// Smallest price x size, in USDC base units.
    public var minimumNotional: Int64
    /// Base units in one whole unit of the base asset (10^decimals): notional
    /// = price x size / unitScale.
    public var unitScale: Int64

    public init(tick: Int64, lot: Int64, minimumNotional: Int64, unitScale: Int64) {
        self.tick = tick
        self.lot = lot
        self.minimumNotional = minimumNotional
        self.unitScale = unitScale
    }

    /// Fails with the first rule the order breaks: positive price and size,
    /// price on the tick, size on the lot, notional at least the minimum
    /// (compared exactly: price x size >= minimum x unitScale).
    public func validate(price: Int64, size: Int64) throws(BookError) {
        guard tick > 0, lot > 0, unitScale > 0 else {
            throw .invalidRules("tick \(tick), lot \(lot), unit scale \(unitScale) must all be > 0")
        }
        guard price > 0 else { throw .priceNotPositive(price) }
        guard size > 0 else { throw .sizeNotPositive(size) }
        guard price % tick == 0 else { throw .priceOffTick(price: price, tick: tick) }
        guard size % lot == 0 else { throw .sizeOffLot(size: size, lot: lot) }
        let scaled = Int128(price) * Int128(size)
        guard scaled >= Int128(minimumNotional) * Int128(unitScale) else {
            throw .belowMinimumNotional(notional: scaled / Int128(unitScale), minimum: minimumNotional)
        }
    }

    /// price x size / unitScale in USDC base units, rounded down; exact in Int128.
    public func notional(price: Int64, size: Int64) -> Int128 {
        Int128(price) * Int128(size) / Int128(max(unitScale, 1))
    }
}
