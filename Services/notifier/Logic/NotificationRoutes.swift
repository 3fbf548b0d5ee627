import Foundation
import HelpdeskModel
import Yams

/// Who gets which notification on which channel: the routes file (`NOTIFIER_ROUTES_FILE`,
/// docs/operations.md#notifier-routes). Secrets are never in it: a webhook's signing secret
/// comes from the environment (`NOTIFIER_WEBHOOK_<NAME>_SECRET`).
public struct NotificationRoutes: Sendable, Equatable {
    public struct Webhook: Sendable, Equatable {
        public enum Format: String, Sendable, CaseIterable { case standard, slack }
        public var name: String
        public var url: URL
        public var format: Format
    }

    public struct Route: Sendable, Equatable {
        public var name: String
        public var audiences: Set<HelpdeskModel.Notification.Audience>
        /// nil: every severity (and notifications without one).
        public var severities: Set<Severity>?
        /// nil: every kind (and notifications without one).
        public var kinds: Set<HelpdeskModel.Notification.Kind>?
        /// Addresses; `recipient` stands for the address the notification carries.
        public var email: [String]
        public var webhooks: [String]
        public var log: Bool
    }

    /// In the `email` list: the address the notification carries (the assignee, the customer,
    /// the assigned escalation engineer).
    public static let recipientPlaceholder = "recipient"

    public var webhooks: [String: Webhook]
    public var routes: [Route]

    public init(webhooks: [String: Webhook] = [:], routes: [Route]) {
        self.webhooks = webhooks
        self.routes = routes
    }

    /// `helpdesk dev`'s default: every notification to every audience, written to the log.
    public static let logEverything = NotificationRoutes(routes: [Route(
        name: "log", audiences: Set(HelpdeskModel.Notification.Audience.allCases), severities: nil, kinds: nil, email: [],
        webhooks: [], log: true)])

    /// One delivery a notification needs.
    public struct Target: Sendable, Hashable {
        public var route: String
        public var channel: DeliveryChannel
        /// The e-mail address, the webhook's name, or `log`; nil: an e-mail to the notification's
        /// recipient, which it does not carry.
        public var recipient: String?
    }

    /// Every delivery the notification needs, each channel and recipient once (the first
    /// route that names it is credited).
    public func targets(for notification: HelpdeskModel.Notification) -> [Target] {
        var targets = [Target]()
        var seen = Set<String>()
        func add(_ target: Target) {
            let key = "\(target.channel.rawValue)/\(target.recipient.map(EmailAddress.normalize) ?? "")"
            if seen.insert(key).inserted { targets.append(target) }
        }
        for route in routes where route.audiences.contains(notification.audience) {
            if let severities = route.severities, !(notification.severity.map(severities.contains) ?? false) { continue }
            if let kinds = route.kinds, !(notification.kind.map(kinds.contains) ?? false) { continue }
            for address in route.email {
                let recipient = address == Self.recipientPlaceholder ? notification.recipient : address
                add(Target(route: route.name, channel: .email, recipient: recipient))
            }
            for webhook in route.webhooks { add(Target(route: route.name, channel: .webhook, recipient: webhook)) }
            if route.log { add(Target(route: route.name, channel: .log, recipient: "log")) }
        }
        return targets
    }
}

// MARK: - Loading

/// A routes file that cannot be used; names every problem with where it is.
public struct RoutesFileError: Error, CustomStringConvertible, Equatable {
    public let problems: [String]
    public var description: String { problems.joined(separator: "; ") }
}

extension NotificationRoutes {
    public static func load(file path: String) throws -> NotificationRoutes {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RoutesFileError(problems: ["cannot read \(path): \(error.localizedDescription)"])
        }
        return try parse(yaml: text)
    }

    /// Parses and validates: unknown keys, audiences, kinds, severities and webhook names,
    /// malformed addresses and URLs, routes that deliver nowhere, duplicate names.
    public static func parse(yaml text: String) throws -> NotificationRoutes {
        let document: Any?
        do {
            document = try Yams.load(yaml: text)
        } catch {
            throw RoutesFileError(problems: ["not YAML: \(error)"])
        }
        var problems = [String]()
        guard let root = document as? [String: Any] else {
            throw RoutesFileError(problems: ["the file must be a mapping with `routes` (and optionally `webhooks`)"])
        }
        for key in root.keys.sorted() where !["routes", "webhooks"].contains(key) {
            problems.append("unknown key `\(key)` (expected `routes`, `webhooks`)")
        }
        var webhooks = [String: Webhook]()
        if let raw = root["webhooks"] {
            if let mapping = raw as? [String: Any] {
                for name in mapping.keys.sorted() {
                    let at = "webhooks.\(name)"
                    guard Self.isName(name) else {
                        problems.append("\(at): a name is letters, digits, `-` and `_`")
                        continue
                    }
                    guard let fields = mapping[name] as? [String: Any] else {
                        problems.append("\(at): must be a mapping with `url`")
                        continue
                    }
                    for key in fields.keys.sorted() where !["url", "format"].contains(key) {
                        problems.append("\(at): unknown key `\(key)` (expected `url`, `format`)")
                    }
                    let url = (fields["url"] as? String).flatMap(URL.init(string:))
                    guard let url, ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                        problems.append("\(at).url: an http or https URL is required")
                        continue
                    }
                    var format = Webhook.Format.standard
                    if let raw = fields["format"] {
                        if let value = (raw as? String).flatMap(Webhook.Format.init(rawValue:)) {
                            format = value
                        } else {
                            problems.append("\(at).format: `\(raw)` is not one of standard|slack")
                        }
                    }
                    webhooks[name] = Webhook(name: name, url: url, format: format)
                }
            } else {
                problems.append("webhooks: must be a mapping of names to webhooks")
            }
        }
        var routes = [Route]()
        guard let list = root["routes"] as? [Any], !list.isEmpty else {
            throw RoutesFileError(problems: problems + ["routes: a list of at least one route is required"])
        }
        var names = Set<String>()
        for (index, raw) in list.enumerated() {
            var at = "routes[\(index)]"
            guard let fields = raw as? [String: Any] else {
                problems.append("\(at): must be a mapping")
                continue
            }
            let known = ["name", "audiences", "severities", "kinds", "email", "webhooks", "log"]
            for key in fields.keys.sorted() where !known.contains(key) {
                problems.append("\(at): unknown key `\(key)` (expected \(known.map { "`\($0)`" }.joined(separator: ", ")))")
            }
            guard let name = fields["name"] as? String, isName(name) else {
                problems.append("\(at).name: a name (letters, digits, `-`, `_`) is required")
                continue
            }
            at = "routes[\(index)] (\(name))"
            if !names.insert(name).inserted { problems.append("\(at).name: used by an earlier route") }
            let audiences = Self.list(fields["audiences"], at: "\(at).audiences", &problems, required: true) {
                HelpdeskModel.Notification.Audience(rawValue: $0)
            }
            let severities = fields["severities"] == nil ? nil : Self.list(fields["severities"], at: "\(at).severities", &problems) {
                Severity(parsing: $0)
            }
            let kinds = fields["kinds"] == nil ? nil : Self.list(fields["kinds"], at: "\(at).kinds", &problems) {
                HelpdeskModel.Notification.Kind(rawValue: $0)
            }
            let email = Self.list(fields["email"], at: "\(at).email", &problems) { address -> String? in
                address == recipientPlaceholder || MailAddress.isValid(address) ? address : nil
            }
            let hooks = Self.list(fields["webhooks"], at: "\(at).webhooks", &problems) { webhooks[$0] == nil ? nil : $0 }
            var log = false
            if let raw = fields["log"] {
                if let value = raw as? Bool { log = value } else { problems.append("\(at).log: must be true or false") }
            }
            if email.isEmpty && hooks.isEmpty && !log && fields["email"] == nil && fields["webhooks"] == nil {
                problems.append("\(at): delivers nowhere (give `email`, `webhooks` or `log: true`)")
            }
            routes.append(Route(
                name: name, audiences: Set(audiences), severities: severities.map(Set.init), kinds: kinds.map(Set.init),
                email: email, webhooks: hooks, log: log))
        }
        if !problems.isEmpty { throw RoutesFileError(problems: problems) }
        return NotificationRoutes(webhooks: webhooks, routes: routes)
    }

    private static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    /// A list of strings, each turned into a value by `parse` (nil: a problem naming the item).
    private static func list<T>(
        _ raw: Any?, at: String, _ problems: inout [String], required: Bool = false, parse: (String) -> T?
    ) -> [T] {
        guard let raw else {
            if required { problems.append("\(at): required") }
            return []
        }
        let items: [Any] = (raw as? [Any]) ?? [raw]
        var values = [T]()
        for item in items {
            guard let text = item as? String ?? (item as? CustomStringConvertible).map({ "\($0)" }), let value = parse(text) else {
                problems.append("\(at): `\(item)` is not valid here")
                continue
            }
            values.append(value)
        }
        if required && values.isEmpty && items.isEmpty { problems.append("\(at): at least one is required") }
        return values
    }
}
