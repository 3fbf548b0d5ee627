import Foundation
import HelpdeskModel

/// A seeded generator, so that a fuzz failure can be replayed from the seed it prints: the
/// model's own (`SeededRandom`, which the backtest and the benchmarks use too).
public typealias SplitMix64 = SeededRandom

extension SeededRandom {
    public init(state: UInt64) { self.init(seed: state) }
}

/// Inputs for fuzzing the inbound decoder: random bytes, and valid records cut, flipped,
/// spliced and stuffed with the characters that have broken parsers before.
public enum FuzzInputs {
    static let seeds: [String] = [
        #"{"type":"ticket.opened","source":"crm","externalId":"CRM-1","organizationId":"acme","subject":"SSO down","openedAt":"2026-03-06T23:30:00Z","impact":{"serviceDown":true,"usersAffected":"all"},"requester":{"email":"a@b.test"}}"#,
        #"{"type":"ticket.message","source":"crm","externalId":"CRM-1","author":{"role":"agent","email":"sam@x.test"},"public":true,"body":"hi","cc":["escalations@support.example"],"sentAt":"0001-01-01T00:00:00Z"}"#,
        #"{"type":"ticket.severityChanged","source":"crm","externalId":"CRM-1","severity":1,"changedAt":"9999-12-31T23:59:59+23:59"}"#,
        #"{"type":"ticket.statusChanged","source":"crm","externalId":"\u00e9\/x","status":"solved"}"#,
    ]
    static let splices: [[UInt8]] = ["\u{0}", "\u{1B}[2J", "\n", "\"", "\\", "\\u0000", "\\ud800", "[[[[", "}}}}", "1e999", "-0",
                                     "\u{FEFF}", "\u{202E}", "\u{301}\u{301}\u{301}", "null", "9223372036854775808", "\u{FFFF}"]
        .map { Array($0.utf8) }

    public static func next(_ random: inout SplitMix64) -> [UInt8] {
        switch random.next() % 4 {
        case 0:
            return (0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        default:
            var bytes = Array(seeds[Int(random.next() % UInt64(seeds.count))].utf8)
            for _ in 0..<(1 + random.next() % 4) {
                let at = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count))
                switch random.next() % 4 {
                case 0: if !bytes.isEmpty { bytes[at] ^= UInt8(truncatingIfNeeded: 1 << (random.next() % 8)) }
                case 1: bytes.removeSubrange(at..<min(bytes.count, at + Int(random.next() % 16)))
                case 2: bytes.insert(contentsOf: splices[Int(random.next() % UInt64(splices.count))], at: at)
                default: bytes = Array(bytes.prefix(at))
                }
            }
            return bytes
        }
    }
}


/// A bounded fuzz run: `body` gets the generator and returns whether the input was accepted,
/// for `FUZZ_SECONDS` (or `seconds`) and at least `minimumRuns` inputs; `FUZZ_SEED` replays one.
/// Returns the runs, the accepted ones and the seed, which a failure message should name.
public struct FuzzRun: Sendable {
    public let seed: UInt64
    public let seconds: Double

    public init(seconds: Double) {
        let environment = ProcessInfo.processInfo.environment
        self.seconds = Double(environment["FUZZ_SECONDS"] ?? "") ?? seconds
        seed = UInt64(environment["FUZZ_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
    }

    public func run(minimumRuns: Int, _ body: (inout SplitMix64) async throws -> Bool) async rethrows -> (runs: Int, accepted: Int) {
        var random = SplitMix64(state: seed)
        let deadline = Date().addingTimeInterval(seconds)
        var runs = 0
        var accepted = 0
        var share = PoolShare()
        while Date() < deadline || runs < minimumRuns {
            runs += 1
            if try await body(&random) { accepted += 1 }
            await share.yieldIfDue()
        }
        return (runs, accepted)
    }

    /// A run for CPU-bound properties, on a dispatch thread (on the cooperative pool they starve
    /// the loop tests): `body` gets the generator and the seed, and returns the failures of one
    /// input as messages; it stops after ten.
    public func runOffThePool(
        minimumRuns: Int, _ body: @escaping @Sendable (inout SplitMix64, UInt64) -> [String]
    ) async throws -> (runs: Int, failures: [String]) {
        let (seed, seconds) = (self.seed, self.seconds)
        return try await offThePool {
            var random = SplitMix64(state: seed)
            let deadline = Date().addingTimeInterval(seconds)
            var runs = 0
            var failures = [String]()
            while (Date() < deadline || runs < minimumRuns) && failures.count < 10 {
                runs += 1
                failures += body(&random, seed)
            }
            return (runs, failures)
        }
    }
}
