import Foundation
import NotifierService
import ServiceRuntime

do {
    try await ServiceHost.run(serviceName: NotifierProcessor.service, defaultHTTPPort: 8085) { try buildNotifier($0) }
} catch {
    FileHandle.standardError.write(Data("notifier: \(error)\n".utf8))
    exit(1)
}
