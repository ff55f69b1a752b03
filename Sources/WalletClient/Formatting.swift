import Foundation

/// Turns integer base units into decimal text for people.
public enum Amount {
    /// `value` base units with `decimals` decimals: `format(1_234_500, decimals: 6)` is
    /// `"1.234500"`; negative values keep their sign, `Int64.min` included.
    public static func format(_ value: Int64, decimals: Int) -> String {
        let decimals = max(0, min(decimals, 18))
        let magnitude = value.magnitude
        let sign = value < 0 ? "-" : ""
        guard decimals > 0 else { return sign + String(magnitude) }
        var scale: UInt64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let fraction = String(magnitude % scale)
        return sign + String(magnitude / scale) + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }

    /// Like `format`, without trailing fractional zeros (and the point if nothing is left):
    /// `1.5`, `250`, `0.00001`.
    public static func formatTrimmed(_ value: Int64, decimals: Int) -> String {
        var text = format(value, decimals: decimals)
        guard text.contains(".") else { return text }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// Parts per million as a percentage with two decimals (`125_000` is `12.50%`);
    /// `Int64.max`, the API's "infinite", is `inf`.
    public static func percent(ppm: Int64) -> String {
        if ppm == .max { return "inf" }
        // ppm / 10^4 = percent; keep two decimals by rounding to whole hundredths of a percent.
        let hundredths = ppm / 100 + (ppm % 100 >= 50 ? 1 : ppm % 100 <= -50 ? -1 : 0)
        return format(hundredths, decimals: 2) + "%"
    }

    /// An 18-decimal wad string (as the API gives rates and utilisation) as a percentage:
    /// `"0.052500000000000000"` is `5.2500%`. Text that is not a wad is returned as it is.
    public static func percent(wad: String, decimals: Int = 4) -> String {
        let negative = wad.hasPrefix("-")
        let digits = negative ? wad.dropFirst() : Substring(wad)
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 18, !parts[0].isEmpty,
              parts[0].allSatisfy(\.isASCII), parts[0].allSatisfy(\.isNumber), parts[1].allSatisfy(\.isNumber)
        else { return wad }
        // Moving the point two places right makes a percentage; then cut to `decimals`.
        let fraction = parts[1]
        var whole = String(parts[0]) + fraction.prefix(2)
        while whole.count > 1 && whole.hasPrefix("0") { whole.removeFirst() }
        let kept = fraction.dropFirst(2).prefix(decimals)
        return (negative ? "-" : "") + whole + (decimals > 0 ? "." + kept : "") + "%"
    }

    /// Milliseconds since the Unix epoch as UTC ISO 8601 with milliseconds.
    public static func timestamp(ms: UInt64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}

/// A text table: a header row and rows, columns padded to their widest cell;
/// numeric columns (every cell starting with a digit, '-' or '+') align right.
public struct TextTable: Sendable {
    public var header: [String]
    public var rows: [[String]] = []

    public init(_ header: [String]) { self.header = header }

    public mutating func add(_ row: [String]) { rows.append(row) }

    /// The table as lines joined by newlines, no trailing spaces.
    public func render() -> String {
        let count = ([header] + rows).map(\.count).max() ?? 0
        func cell(_ row: [String], _ i: Int) -> String { i < row.count ? row[i] : "" }
        var widths = [Int](repeating: 0, count: count)
        var numeric = [Bool](repeating: true, count: count)
        for row in [header] + rows {
            for i in 0..<count { widths[i] = max(widths[i], cell(row, i).count) }
        }
        for row in rows {
            for i in 0..<count {
                let c = cell(row, i)
                if !(c.first.map { $0.isNumber || $0 == "-" || $0 == "+" } ?? true) { numeric[i] = false }
            }
        }
        if rows.isEmpty { numeric = numeric.map { _ in false } }
        return ([header] + rows).map { row in
            (0..<count).map { i -> String in
                let c = cell(row, i)
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return numeric[i] ? pad + c : c + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.joined(separator: "\n")
    }
}
