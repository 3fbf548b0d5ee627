/// Phrase matching over normalized words: case-insensitive, punctuation-blind, tolerant of
/// plurals (`user`/`users`, `crash`/`crashes`), with simple negation ("not down", "no outage").
struct TextMatcher: Sendable {
    /// Words that, shortly before a phrase, negate it.
    let negations: Set<String>
    /// How many words before a phrase a negation reaches.
    let negationReach = 3

    /// Lower-cased words; apostrophes vanish ("can't" → "cant"), other non-alphanumerics split.
    static func words(_ text: String) -> [String] {
        var words = [String]()
        var current = ""
        for scalar in text.unicodeScalars {
            if scalar == "'" || scalar == "\u{2019}" { continue }
            if scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                current.unicodeScalars.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// The form words are compared in: a plural's `s`/`es` removed.
    static func stem(_ word: String) -> String {
        guard word.count > 3 else { return word }
        if word.hasSuffix("ies") { return String(word.dropLast(3)) + "y" }
        if word.hasSuffix("sses") || word.hasSuffix("shes") || word.hasSuffix("ches") || word.hasSuffix("xes") {
            return String(word.dropLast(2))
        }
        if word.hasSuffix("s"), !word.hasSuffix("ss"), !word.hasSuffix("us") { return String(word.dropLast()) }
        return word
    }

    /// The words with every occurrence of the given phrases blanked out.
    func masking(_ phrases: [[String]], in stems: [String]) -> [String] {
        guard !phrases.isEmpty else { return stems }
        var masked = stems
        for phrase in phrases where !phrase.isEmpty && phrase.count <= stems.count {
            for start in 0...(stems.count - phrase.count)
            where (0..<phrase.count).allSatisfy({ stems[start + $0] == phrase[$0] }) {
                for offset in 0..<phrase.count { masked[start + offset] = "" }
            }
        }
        return masked
    }

    /// Whether a phrase (already stemmed words) occurs in the stemmed text, not negated.
    func matches(_ phrase: [String], in stems: [String]) -> Bool {
        guard !phrase.isEmpty, stems.count >= phrase.count else { return false }
        var start = 0
        while start + phrase.count <= stems.count {
            if stems[start] == phrase[0], (1..<phrase.count).allSatisfy({ stems[start + $0] == phrase[$0] }) {
                let before = stems[max(0, start - negationReach)..<start]
                if !before.contains(where: negations.contains) { return true }
            }
            start += 1
        }
        return false
    }
}
