import Foundation
import HistoryService
import ServiceRuntime

do {
    try await ServiceHost.run(serviceName: HistoryProcessor.service, defaultHTTPPort: 8086) { try buildHistory($0) }
} catch {
    FileHandle.standardError.write(Data("history: \(error)\n".utf8))
    exit(1)
}
