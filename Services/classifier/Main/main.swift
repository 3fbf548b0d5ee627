import ClassifierService
import Foundation
import ServiceRuntime

do {
    try await ServiceHost.run(serviceName: ClassifierProcessor.service, defaultHTTPPort: 8082, build: buildClassifier)
} catch {
    FileHandle.standardError.write(Data("classifier: \(error)\n".utf8))
    exit(1)
}
