import Synchronization

/// Support plan names as small numbers, shared by every clock of the process: a clock keeps
/// two bytes for its plan instead of a string. Only the plans a policy names are stored (any
/// other runs the default policy), so the table stays as small as the policy file; past
/// `limit` names a plan reads as none.
enum PlanNames {
    private static let table = Mutex<(names: [String], codes: [String: UInt16])>(([], [:]))
    static let limit = 4_096

    static func code(_ name: String?) -> UInt16 {
        guard let name else { return 0 }
        return table.withLock { table in
            if let code = table.codes[name] { return code }
            guard table.names.count < limit else { return 0 }
            table.names.append(name)
            let code = UInt16(table.names.count)
            table.codes[name] = code
            return code
        }
    }

    static func name(_ code: UInt16) -> String? {
        guard code != 0 else { return nil }
        return table.withLock { $0.names[Int(code) - 1] }
    }
}
