import EscalationService
import Foundation
import ServiceRuntime

do {
    try await ServiceHost.run(serviceName: EscalationPartition.service, defaultHTTPPort: 8084, build: buildEscalation)
} catch {
    FileHandle.standardError.write(Data("escalation: \(error)\n".utf8))
    exit(1)
}
