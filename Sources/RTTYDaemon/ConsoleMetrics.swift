import NIOCore
import Prometheus
import RTTYCore
import RTTYSystem

/// One console's Prometheus series (label `console`). Counters are bumped by the hub on
/// its loop where the event happens: one relaxed atomic add per device read or device
/// write, never per byte, and no lock. What is a state rather than an event (clients,
/// device up, idle time) is read on the hub's loop when a scrape asks (`observe`).
final class ConsoleMetrics: OutputSink, @unchecked Sendable {
    let fromDevice: Counter
    let toDevice: Counter
    let reopens: Counter
    let sessions: Counter
    let denied: Counter
    let cutOffs: Counter
    private let clients: Gauge
    private let deviceUp: Gauge
    private let idle: Gauge
    /// Monotonic time of the last device output (on the hub's loop only); the console's
    /// start until it has printed anything.
    private var lastOutput = WallClock.monotonicSeconds()

    init(console: String, registry: PrometheusCollectorRegistry) {
        let labels = [("console", console)]
        func counter(_ name: String, _ unit: String, _ help: String) -> Counter {
            registry.counter("rtty_console_" + name, unit: unit, labels: labels, help)
        }
        func gauge(_ name: String, _ unit: String, _ help: String) -> Gauge { registry.gauge("rtty_console_" + name, unit: unit, labels: labels, help) }
        fromDevice = counter("device_read", "bytes_total", "Bytes read from the console's device (its output).")
        toDevice = counter("device_written", "bytes_total", "Bytes of client input written to the console's device.")
        reopens = counter("reopens", "total", "Times the device came back after it was lost.")
        sessions = counter("sessions", "total", "Sessions started (session-start audit records).")
        denied = counter("sessions_denied", "total", "Clients refused (denied audit records: ACL, limits, descriptors).")
        cutOffs = counter("clients_cut_off", "total", "Clients cut off for falling more than client_queue_bytes behind.")
        clients = gauge("clients", "", "Clients attached now.")
        deviceUp = gauge("device_up", "", "1 while the device is open, 0 while it is lost or not opened yet.")
        idle = gauge("output_idle", "seconds", "Seconds since the device last printed (since the console started, if never).")
    }

    func append(_ burst: ByteBuffer) { fromDevice.increment(by: Int64(burst.readableBytes)) }

    func burstEnded() { lastOutput = WallClock.monotonicSeconds() }

    /// Every audit record of the console passes here (ConsoleHub.record).
    func audited(_ kind: AuditEvent.Kind) {
        switch kind {
        case .sessionStart: sessions.increment()
        case .denied: denied.increment()
        default: break
        }
    }

    /// At scrape time, on the hub's loop.
    func observe(clients count: Int, deviceUp up: Bool) {
        clients.set(to: Double(count))
        deviceUp.set(to: up ? 1 : 0)
        idle.set(to: WallClock.monotonicSeconds() - lastOutput)
    }

    /// The console left the configuration: its series go with it.
    func unregister(from registry: PrometheusCollectorRegistry) {
        for counter in [fromDevice, toDevice, reopens, sessions, denied, cutOffs] { registry.unregisterCounter(counter) }
        for gauge in [clients, deviceUp, idle] { registry.unregisterGauge(gauge) }
    }
}

extension ConsoleHub {
    /// The state gauges, read where the state lives.
    func observeMetrics() {
        metrics?.observe(clients: clients.count, deviceUp: state.isUp)
    }
}

extension PrometheusCollectorRegistry {
    /// A series named `name_unit` (an empty unit adds nothing) with its HELP text.
    func counter(_ name: String, unit: String, labels: [(String, String)] = [], _ help: String) -> Counter {
        makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: unit, helpText: help), labels: labels)
    }

    func gauge(_ name: String, unit: String, labels: [(String, String)] = [], _ help: String) -> Gauge {
        makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: unit, helpText: help), labels: labels)
    }
}
