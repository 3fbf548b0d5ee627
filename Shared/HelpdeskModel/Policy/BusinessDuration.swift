/// Durations as the policy file writes them: `1h`, `30m`, `90s`, `1h30m`, `2h15m10s`.
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        var total: Int64 = 0
        var number: Int64?
        var lastUnit = 0
        let units: [Character: (order: Int, seconds: Int64)] = ["h": (1, 3600), "m": (2, 60), "s": (3, 1)]
        for character in text {
            if let digit = character.wholeNumberValue, character.isASCII {
                let (value, overflow) = (number ?? 0).multipliedReportingOverflow(by: 10)
                guard !overflow, value <= 1_000_000_000 else { return nil }
                number = value + Int64(digit)
            } else if let unit = units[character], let value = number, unit.order > lastUnit {
                total += value * unit.seconds
                number = nil
                lastUnit = unit.order
            } else {
                return nil
            }
        }
        guard number == nil, lastUnit > 0 else { return nil }
        return .seconds(total)
    }

    public static func format(_ duration: Duration) -> String {
        var seconds = duration.components.seconds
        guard seconds != 0 else { return "0s" }
        let sign = seconds < 0 ? "-" : ""
        seconds = abs(seconds)
        var text = sign
        if seconds >= 3600 { text += "\(seconds / 3600)h" }
        if seconds % 3600 >= 60 { text += "\(seconds % 3600 / 60)m" }
        if seconds % 60 > 0 { text += "\(seconds % 60)s" }
        return text
    }
}
