/// Values keyed by round (or height), pruned from the bottom. Keeps its keys
/// in a sorted array so that pruning never iterates a dictionary.
struct RoundIndexed<Value> {
    private(set) var values: [UInt64: Value] = [:]
    private var keys: [UInt64] = []

    subscript(_ key: UInt64) -> Value? {
        get { values[key] }
        set {
            if newValue != nil, values[key] == nil {
                // Keys arrive almost in order: insert from the back.
                var i = keys.count
                while i > 0 && keys[i - 1] > key { i -= 1 }
                keys.insert(key, at: i)
            } else if newValue == nil, values[key] != nil {
                if let i = keys.firstIndex(of: key) { keys.remove(at: i) }
            }
            values[key] = newValue
        }
    }

    /// Removes every entry below `bound`, returning them lowest first.
    @discardableResult
    mutating func removeAll(below bound: UInt64) -> [Value] {
        var removed: [Value] = []
        var cut = 0
        while cut < keys.count && keys[cut] < bound {
            if let v = values.removeValue(forKey: keys[cut]) { removed.append(v) }
            cut += 1
        }
        keys.removeFirst(cut)
        return removed
    }

    var count: Int { keys.count }
    var lowestKey: UInt64? { keys.first }
}
