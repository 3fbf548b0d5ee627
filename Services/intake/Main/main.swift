import Foundation
import IntakeService
import ServiceRuntime

do {
    try await ServiceHost.run(serviceName: IntakeProcessor.service, defaultHTTPPort: 8081, build: buildIntake)
} catch {
    FileHandle.standardError.write(Data("intake: \(error)\n".utf8))
    exit(1)
}
