import Metrics
import Prometheus

/// The node's Prometheus metrics, served at `/metrics`. Each node has its own
/// registry (no global bootstrap), so several runtimes in one test process
/// stay apart.
public struct NodeMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let height: Metrics.Gauge
    let round: Metrics.Gauge
    let commits: Metrics.Counter
    let committedTransactions: Metrics.Counter
    let skippedTransactions: Metrics.Counter
    let timeouts: Metrics.Counter
    let mempoolTransactions: Metrics.Gauge
    let mempoolBytes: Metrics.Gauge
    let peers: Metrics.Gauge
    let admitted: Metrics.Counter
    let refused: Metrics.Counter

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        let factory = PrometheusMetricsFactory(registry: registry)
        height = Metrics.Gauge(label: "ballast_height", factory: factory)
        round = Metrics.Gauge(label: "ballast_round", factory: factory)
        commits = Metrics.Counter(label: "ballast_commits_total", factory: factory)
        committedTransactions = Metrics.Counter(label: "ballast_committed_transactions_total", factory: factory)
        skippedTransactions = Metrics.Counter(label: "ballast_skipped_transactions_total", factory: factory)
        timeouts = Metrics.Counter(label: "ballast_round_timeouts_total", factory: factory)
        mempoolTransactions = Metrics.Gauge(label: "ballast_mempool_transactions", factory: factory)
        mempoolBytes = Metrics.Gauge(label: "ballast_mempool_bytes", factory: factory)
        peers = Metrics.Gauge(label: "ballast_peers", factory: factory)
        admitted = Metrics.Counter(label: "ballast_admitted_transactions_total", factory: factory)
        refused = Metrics.Counter(label: "ballast_refused_transactions_total", factory: factory)
    }

    /// The metrics in Prometheus' text format.
    public func render() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
