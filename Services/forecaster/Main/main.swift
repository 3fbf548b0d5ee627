import ForecasterService
import Foundation
import ServiceRuntime

do {
    try await ServiceHost.run(serviceName: ForecastRecords.service, defaultHTTPPort: 8087) { try buildForecaster($0) }
} catch {
    FileHandle.standardError.write(Data("forecaster: \(error)\n".utf8))
    exit(1)
}
