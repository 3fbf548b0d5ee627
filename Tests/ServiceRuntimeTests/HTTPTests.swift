import Hummingbird
import HummingbirdTesting
import Metrics
import Prometheus
import ServiceRuntime
import Testing

@Suite("Operational HTTP routes") struct HTTPTests {
    @Test func healthReadinessAndMetrics() async throws {
        let readiness = Readiness()
        let joined = ReadinessFlag()
        readiness.add(.kafkaGroupJoined) { joined.isSet }
        readiness.add(.kafkaReachable) { true }
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        Counter(label: "helpdesk_records_in_total", dimensions: [("topic", "tickets.inbound")], factory: factory).increment(by: 3)
        let router = buildRouter(readiness: readiness, registry: registry)
        let app = Application(router: router)
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body) == #"{"status":"not ready","failing":["kafka-group-joined"]}"#)
            }
            joined.set(true)
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(#"helpdesk_records_in_total{topic="tickets.inbound"} 3"#))
            }
            try await client.execute(uri: "/nope", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
