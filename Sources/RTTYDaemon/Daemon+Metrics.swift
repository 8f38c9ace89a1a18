import RTTYCore

extension Daemon {
    /// Serves `config`'s metrics endpoint (at start-up and after each reload).
    func serveMetrics(_ config: Config) async {
        await metrics.serve(config.metrics, adminGroup: config.adminGroup, on: group.next()) { [self] loop in
            metrics.scrape(Array(hubTableSnapshot().values), syslogDropped: syslog.dropped, on: loop)
        }
    }
}
