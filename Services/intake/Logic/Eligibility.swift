import Foundation
import HelpdeskModel
import Yams

/// Which organizations are entitled to support: known organizations with a plan, and the
/// plans that are eligible (INTAKE_ORGANIZATIONS_FILE).
public struct Eligibility: Sendable, Equatable {
    public var eligiblePlans: Set<String>
    public var organizations: [String: String]

    public init(eligiblePlans: Set<String>, organizations: [String: String]) {
        self.eligiblePlans = eligiblePlans
        self.organizations = organizations
    }

    /// The sample of DESIGN.md, so a development stack works out of the box.
    public static let sample = Eligibility(
        eligiblePlans: ["standard", "premium"],
        organizations: ["acme": "premium", "globex": "standard", "initech": "free"])

    /// Why an organization may not open tickets, or nil when it may.
    public func refusal(for organizationId: String) -> (TicketRejected.Reason, String)? {
        guard let plan = organizations[organizationId] else {
            return (.unknownOrganization, "Organization \"\(organizationId)\" is not a known customer, so it has no support entitlement.")
        }
        guard eligiblePlans.contains(plan) else {
            let plans = eligiblePlans.sorted().joined(separator: " or ")
            return (.ineligiblePlan, "Organization \"\(organizationId)\" is on the \(plan) plan, which does not include support (\(plans) does).")
        }
        return nil
    }

    public struct LoadError: Error, CustomStringConvertible, Equatable {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public static func load(yaml text: String) throws(LoadError) -> Eligibility {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw LoadError(description: "not valid YAML: \(error)")
        }
        guard let mapping = node?.mapping else { throw LoadError(description: "must be a mapping with eligiblePlans and organizations") }
        var plans: Set<String>?
        var organizations: [String: String]?
        for (key, value) in mapping {
            switch key.scalar?.string {
            case "eligiblePlans":
                guard let list = value.sequence, list.allSatisfy({ $0.scalar != nil }) else {
                    throw LoadError(description: "eligiblePlans: must be a list of plan names")
                }
                plans = Set(list.compactMap { $0.scalar?.string })
            case "organizations":
                guard let entries = value.mapping else { throw LoadError(description: "organizations: must be a mapping") }
                var result = [String: String]()
                for (name, entry) in entries {
                    let id = name.scalar?.string ?? ""
                    guard let plan = entry.mapping?["plan"]?.scalar?.string, !plan.isEmpty else {
                        throw LoadError(description: "organizations.\(id).plan: is required")
                    }
                    result[id] = plan
                }
                organizations = result
            case let other:
                throw LoadError(description: "\(other ?? ""): unknown key (expected eligiblePlans, organizations)")
            }
        }
        guard let plans else { throw LoadError(description: "eligiblePlans: is required") }
        guard let organizations else { throw LoadError(description: "organizations: is required") }
        return Eligibility(eligiblePlans: plans, organizations: organizations)
    }
}
