import Foundation
import ServiceRuntime
import SLATimerService

do {
    try await ServiceHost.run(serviceName: SLATimerPartition.service, defaultHTTPPort: 8083, build: buildSLATimer)
} catch {
    FileHandle.standardError.write(Data("sla-timer: \(error)\n".utf8))
    exit(1)
}
