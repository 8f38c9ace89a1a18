import RTTYCore

extension Daemon {
    /// Serves `config`'s metrics endpoint (at start-up and after each reload). Without one
    /// no console counts anything (its `metrics` is nil); with one every console has its
    /// series, and the series of consoles no longer configured go.
    func serveMetrics(_ config: Config) async {
        let on = config.metrics != nil
        metrics.retain(consoles: on ? Set(config.consoles.map(\.name)) : [])
        await metrics.serve(config.metrics, adminGroup: config.adminGroup, on: group.next()) { [self] loop in
            metrics.scrape(Array(hubTableSnapshot().values), syslogDropped: syslog.dropped, on: loop)
        }
        for hub in hubTableSnapshot().values {
            let series = on ? metrics.console(hub.name) : nil
            hub.loop.execute { if series == nil || hub.metrics == nil { hub.metrics = series } }
        }
    }
}
