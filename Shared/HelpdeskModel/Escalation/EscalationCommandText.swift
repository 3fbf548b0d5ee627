/// The rules for a person's text in an escalation command (an engineer's name, a condition's
/// note), whichever door it came through: the escalation API or the web console.
public enum EscalationCommandText {
    public static let maxLength = 2_000

    /// Why `trimmed` is refused, as a phrase after the field's name; nil when it is fine. Names
    /// go into notifications' recipients and histories: no line breaks, no escapes. A note may
    /// hold line breaks and tabs.
    public static func problem(_ trimmed: String, allowingLineBreaks: Bool) -> String? {
        if trimmed.isEmpty { return "must not be empty" }
        if trimmed.count > maxLength { return "must be at most \(maxLength) characters" }
        if trimmed.unicodeScalars.contains(where: { $0.isControlCharacter && (!allowingLineBreaks || ($0 != "\n" && $0 != "\t")) }) {
            return allowingLineBreaks ? "must not contain control characters other than line breaks and tabs" : "must not contain control characters"
        }
        return nil
    }
}
