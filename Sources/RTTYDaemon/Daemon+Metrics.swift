import RTTYCore

extension Daemon {
    /// Serves `config`'s metrics endpoint and drops the series of consoles it no longer
    /// has (at start-up and after each reload).
    func serveMetrics(_ config: Config) async {
        metrics.retain(consoles: Set(config.consoles.map(\.name)))
        await metrics.serve(config.metrics, adminGroup: config.adminGroup, on: group.next()) { [self] loop in
            metrics.scrape(Array(hubTableSnapshot().values), syslogDropped: syslog.dropped, on: loop)
        }
    }
}
