import Foundation
import Subprocess
import SystemPackage
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `scripts/postgres-server.sh`: a real PostgreSQL server (Debian's `postgresql`), one per test
/// process, started on first use and stopped when the process exits. Each test gets a database
/// of its own (`makeDatabase`).
public final class PostgresServer: Sendable {
    public let url: String
    let folder: String
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/postgres-server.sh").path
    private static let starting = Mutex<Task<PostgresServer, any Error>?>(nil)
    private static let started = Mutex<String?>(nil)

    /// The process's server, started by the first caller.
    public static func shared() async throws -> PostgresServer {
        let task = starting.withLock { task in
            if let task { return task }
            let made = Task {
                let server = try await PostgresServer()
                started.withLock { $0 = server.folder }
                atexit { PostgresServer.stopShared() }
                return server
            }
            task = made
            return made
        }
        return try await task.value
    }

    private init() async throws {
        let output = try await Self.run(Self.script, ["start", "--fast"])
        let words = output.split(whereSeparator: \.isWhitespace).map(String.init)
        guard words.count == 3, words[0] == "READY" else {
            throw HarnessError("PostgreSQL did not start (is the postgresql package installed?): \(output)")
        }
        url = words[1]
        folder = words[2]
    }

    /// A new, empty database on the server: its URL.
    public func makeDatabase() async throws -> String {
        let name = "test_" + UUID().uuidString.prefix(13).lowercased().replacingOccurrences(of: "-", with: "")
        _ = try await Self.run("/usr/bin/psql", [url, "-q", "-c", "CREATE DATABASE \(name)"])
        return url.replacingOccurrences(of: "/helpdesk?", with: "/\(name)?")
    }

    /// At exit, with no task left to await: a plain fork and wait.
    static func stopShared() {
        guard let folder = started.withLock({ $0 }) else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = ["stop", folder]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
        var status: Int32 = 0
        waitpid(process.processIdentifier, &status, 0)
    }

    static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        let result = try await Subprocess.run(
            .path(FilePath(executable)), arguments: Arguments(arguments), output: .string(limit: 1 << 20),
            error: .string(limit: 1 << 20))
        guard result.terminationStatus.isSuccess else {
            throw HarnessError("\(executable) \(arguments.first ?? "") failed (\(result.terminationStatus)): "
                + "\(result.standardError ?? "")\(result.standardOutput ?? "")")
        }
        return result.standardOutput ?? ""
    }
}
