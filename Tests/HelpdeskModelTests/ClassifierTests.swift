import Foundation
import HelpdeskModel
import TestSupport
import Testing

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")
let developmentSetPath = fixtures.appendingPathComponent("classifier-dev.jsonl").path
let validationSetPath = fixtures.appendingPathComponent("classifier-validation.jsonl").path

func labelledTickets(_ path: String) throws -> [LabelledTicket] {
    try LabelledTicket.parse(jsonl: try String(contentsOfFile: path, encoding: .utf8))
}

/// Every labelled ticket's input, read once for the metamorphic tests' many cases.
let corpusInputs = Result {
    try (labelledTickets(developmentSetPath) + labelledTickets(validationSetPath)).map { ClassifierInput($0.ticket) }
}

@Suite("Classifier accuracy")
struct ClassifierAccuracyTests {
    let classifier = Classifier()

    /// The held-out set: written apart from the lexicon by other writers, never tuned on.
    @Test func theHeldOutValidationSet() async throws {
        let tickets = try labelledTickets(validationSetPath)
        let development = try labelledTickets(developmentSetPath)
        #expect(tickets.count + development.count >= 400)
        #expect(Double(tickets.count) / Double(tickets.count + development.count) >= 0.3, "at least 30% held out")
        #expect(Set(tickets.map(\.ticket.externalId)).isDisjoint(with: development.map(\.ticket.externalId)))
        let classifier = classifier
        let evaluation = try await offThePool { ClassifierEvaluation(classifier: classifier, tickets: tickets) }
        let (accuracy, recall, precision) = (evaluation.accuracy, evaluation.recall("critical"), evaluation.precision("critical"))
        print("validation set:", String(format: "accuracy %.2f%%, critical recall %.2f%%, critical precision %.2f%%",
                                         accuracy * 100, recall * 100, precision * 100))
        // The floors are what this lexicon and model reach (docs/policy.md#accuracy): a change
        // that does worse fails here.
        #expect(accuracy >= 0.9430 && recall >= 0.981 && precision >= 0.882, "\(evaluation.report)")
        // Issue 23's targets are not met yet (docs/policy.md#accuracy says by how much).
        withKnownIssue("issue 23: ≥ 95 % accuracy, ≥ 99 % critical recall, ≥ 90 % critical precision, no critical ticket classified minor") {
            #expect(accuracy >= 0.95)
            #expect(recall >= 0.99)
            #expect(precision >= 0.90)
            #expect(evaluation.matrix["critical"]?["minor"] ?? 0 == 0, "no critical ticket classified minor")
        }
    }

    @Test func theDevelopmentSet() async throws {
        let tickets = try labelledTickets(developmentSetPath)
        let classifier = classifier
        let evaluation = try await offThePool { ClassifierEvaluation(classifier: classifier, tickets: tickets) }
        print("development set:", String(format: "accuracy %.1f%%, critical recall %.1f%%, critical precision %.1f%%",
                                          evaluation.accuracy * 100, evaluation.recall("critical") * 100,
                                          evaluation.precision("critical") * 100))
        #expect(evaluation.accuracy >= 0.95 && evaluation.recall("critical") >= 0.98, "\(evaluation.report)")
    }

    /// The committed model is what the fitting script makes of the development set: nobody
    /// edited it by hand, and no lexicon change went in without a refit.
    @Test func theBuiltInModelIsTheFitOfTheDevelopmentSet() async throws {
        let rules = ClassificationRules.standard
        let tickets = try labelledTickets(developmentSetPath)
        let fitted = try await offThePool {
            let examples = ModelFit.examples(tickets, rules: rules)
            return ModelFit().fit(examples, rules: rules, provenance: "")
        }
        let standard = ClassifierModel.standard
        #expect(fitted.bias == standard.bias)
        for (feature, weights) in fitted.weights { #expect(standard.weights[feature] == weights, "\(feature)") }
        #expect(Set(fitted.weights.keys) == Set(standard.weights.keys))
    }
}

/// Changes that must not move a verdict the wrong way, on every labelled ticket.
@Suite("Classifier metamorphic properties")
struct ClassifierMetamorphicTests {
    let classifier = Classifier()

    /// critical 0, major 1, minor 2, documentation 3: lower is more urgent.
    func rank(_ input: ClassifierInput) -> Int {
        let result = classifier.classify(input)
        return result.route == .docs ? 3 : result.severity.level - 1
    }

    func inputs() throws -> [ClassifierInput] { try corpusInputs.get() }

    func appending(_ sentence: String, to input: ClassifierInput, inSubject: Bool) -> ClassifierInput {
        var changed = input
        if inSubject {
            changed.subject += ". " + sentence
        } else {
            changed.description = (input.description.map { $0 + ".\n\n" } ?? "") + sentence
        }
        return changed
    }

    @Test(arguments: ["No one can log in, no workaround.", "NOBODY can sign in and there is no workaround!",
                      "Nobody can log in. No workaround."])
    func anExplicitOutageNeverLowersTheVerdict(statement: String) async throws {
        let inputs = try inputs()
        let changes = try await offThePool { [self] in
            inputs.flatMap { input in
                [false, true].map { (input.subject, self.rank(input), self.rank(self.appending(statement, to: input, inSubject: $0))) }
            }
        }
        for (subject, before, after) in changes {
            #expect(after <= before, "\(subject): \(before) → \(after)")
        }
    }

    /// A reporter who names a dedicated contact (which the policy asks of every critical ticket)
    /// is read as expecting critical handling, never as less urgent.
    @Test func namingADedicatedContactNeverLowersTheVerdict() async throws {
        let inputs = try inputs()
        let changes = try await offThePool { [self] in
            inputs.map { input in
                var named = input
                var impact = input.impact ?? Impact()
                impact.dedicatedContact = "on-call@example.test"
                named.impact = impact
                return (input.subject, self.rank(input), self.rank(named))
            }
        }
        #expect(changes.count > 4_000)
        for (subject, before, after) in changes {
            #expect(after <= before, "\(subject): \(before) → \(after)")
        }
        #expect(changes.contains { $0.2 < $0.1 }, "the contact raises some verdicts")
    }

    @Test(arguments: ["Everyone can log in.", "Everyone can log in, nothing is down.", "All users can sign in fine."])
    func itsNegationNeverRaisesTheVerdict(statement: String) async throws {
        let inputs = try inputs()
        // Severity: documentation and minor both run no clock above minor's.
        let changes = try await offThePool { [self] in
            inputs.flatMap { input in
                [false, true].map {
                    (input.subject, min(self.rank(input), 2), min(self.rank(self.appending(statement, to: input, inSubject: $0)), 2))
                }
            }
        }
        for (subject, before, after) in changes {
            #expect(after >= before, "\(subject): \(before) → \(after)")
        }
    }

    /// Case, whitespace (spaces, tabs, line breaks) and punctuation (one clause mark for another,
    /// repeated marks, apostrophes, quotes) never change the verdict.
    @Test func caseWhitespaceAndPunctuationNeverChangeTheVerdict() async throws {
        let transforms: [@Sendable (String) -> String] = [
            { $0.uppercased() }, { $0.lowercased() },
            { $0.replacingOccurrences(of: " ", with: "  ") },
            { $0.replacingOccurrences(of: " ", with: "\n") },
            { $0.replacingOccurrences(of: " ", with: "\t ") },
            { $0.replacingOccurrences(of: ".", with: "!!!") },
            { $0.replacingOccurrences(of: ",", with: ";") },
            { $0.replacingOccurrences(of: "?", with: ".") },
            { $0.replacingOccurrences(of: "'", with: "") },
            { $0.replacingOccurrences(of: "'", with: "\u{2019}") },
            { "\"" + $0 + "\"!!" },
        ]
        let inputs = try inputs()
        let changed = try await offThePool { [self] in
            var random = SplitMix64(state: 23)
            return inputs.flatMap { input in
                let before = self.classifier.classify(input)
                return (0..<3).map { _ in
                    let transform = transforms[Int(random.next() % UInt64(transforms.count))]
                    var changed = input
                    changed.subject = transform(input.subject)
                    changed.description = input.description.map(transform)
                    let after = self.classifier.classify(changed)
                    return after.route == before.route && after.severity == before.severity ? nil : input.subject
                }
            }.compactMap { $0 }
        }
        #expect(changed.isEmpty, "verdicts changed: \(changed)")
    }

    /// Words are read eight bytes at a time where eight remain, a byte at a time near the end:
    /// shifting every word by a few spaces, or changing its letters' case, reads the same
    /// evidence (signals, features and words), also for words past 64 letters, apostrophes,
    /// digits and letters outside ASCII.
    @Test func wordsReadTheSameWhereverTheyFallInTheText() async throws {
        let inputs = try inputs()
        let mismatches = try await offThePool { [self] in
            var random = SplitMix64(state: 41)
            var mismatches = [String]()
            for input in inputs.prefix(400) {
                var words = (input.subject + " " + (input.description ?? "")).split(separator: " ").map(String.init)
                words.append(String(repeating: "outage", count: 12))
                words.append(["can't", "Ünïcode", "2,000", "99.5%", "x"][Int(random.next() % 5)])
                var shifted = ""
                var recased = ""
                for word in words {
                    shifted += String(repeating: " ", count: Int(random.next() % 9)) + word + " "
                    recased += String(word.map { random.next() % 2 == 0 ? Character($0.uppercased()) : $0 }) + " "
                }
                let plain = words.joined(separator: " ")
                let expected = self.classifier.featureNames(self.classifier.evidence(ClassifierInput(subject: plain)))
                for text in [shifted, recased] {
                    let read = self.classifier.featureNames(self.classifier.evidence(ClassifierInput(subject: text)))
                    if read != expected { mismatches.append(text) }
                }
            }
            return mismatches
        }
        #expect(mismatches.isEmpty, "evidence changed: \(mismatches.prefix(3))")
    }
}

@Suite("Classifier signals")
struct ClassifierSignalTests {
    let classifier = Classifier()

    func signals(_ subject: String, _ description: String? = nil, impact: Impact? = nil) -> Set<String> {
        Set(classifier.classify(ClassifierInput(subject: subject, description: description, impact: impact)).signals.map(\.signal))
    }

    /// Writers in capitals find the lexicon's phrases of other languages: "EL TPV ESTÁ CAÍDO" reads
    /// as "el tpv está caído". (ß is left out: its capitals are "SS", another spelling.)
    @Test func phrasesOfOtherLanguagesAreFoundInCapitals() {
        let rules = ClassificationRules.standard
        let phrases = (rules.signals.flatMap(\.phrases) + rules.synonyms.flatMap(\.variants) + rules.negations)
            .filter { $0.unicodeScalars.contains { $0.value > 0x7F } && !$0.contains("ß") }
        #expect(phrases.count >= 15)
        func read(_ text: String) -> [String] { classifier.featureNames(classifier.evidence(ClassifierInput(subject: "el tpv " + text))) }
        for phrase in phrases {
            #expect(read(phrase.uppercased()) == read(phrase), "\(phrase.uppercased())")
            #expect(read(phrase) != read(""), "\(phrase) reads as nothing")
        }
    }

    /// Every capital of Latin-1 and Latin Extended-A whose small letter is one character reads as
    /// that letter, as Swift's `lowercased()` says, and as no other letter; also where a word
    /// reaches the 64 bytes kept of it.
    @Test func capitalsOfLatinLettersReadAsTheirSmallLetters() async throws {
        // İ is left out: its small letter is two characters (i and a dot above). Turkish İ and ı
        // read as i (`otherLanguagesCommonestWordsCount`).
        let letters = (0xC0...0x17F).compactMap(Unicode.Scalar.init).map(String.init)
            .filter { $0.lowercased().unicodeScalars.count == 1 }
        let capitals = letters.filter { $0.lowercased() != $0 }
        #expect(capitals.count == 92)
        let index = try #require(ClassificationRules.standard.signals.firstIndex { $0.name == "serviceDown" })
        let long = String(repeating: "x", count: 63)
        // 92 lexicons compiled: seconds in a debug build, so not on the cooperative pool.
        let misread = try await offThePool {
            try capitals.flatMap { capital in
                let small = capital.lowercased()
                var rules = ClassificationRules.standard
                rules.signals[index].phrases += ["zq\(small)zq", long + small + "z"]
                let classifier = try Classifier.blank(rules)
                func finds(_ text: String) -> Bool {
                    classifier.classify(ClassifierInput(subject: text)).signals.contains { $0.signal == "serviceDown" }
                }
                var misread = [String]()
                if !finds("zq\(capital)zq") { misread.append("zq\(capital)zq not found") }
                if !finds(long + capital + "z") { misread.append("a capital at the 64th byte: \(capital)") }
                for other in letters where other.lowercased() != small && finds("zq\(other)zq") {
                    misread.append("zq\(other)zq read as zq\(small)zq")
                }
                return misread
            }
        }
        #expect(misread.isEmpty, "\(misread)")
    }

    func found(_ text: String, _ signal: String) -> String? {
        classifier.classify(ClassifierInput(subject: text)).signals.first { $0.signal == signal }?.foundIn
    }

    @Test(arguments: [
        ("The website is down", "serviceDown"), ("Outages in all regions", "serviceDown"), ("Users CANNOT LOG IN", "accessBlocked"),
        ("We can't access the dashboard", "accessBlocked"), ("Business stopped at the plant", "operationsDisrupted"),
        ("Everyone is affected", "majorityUsers"), ("Most of our users see errors", "majorityUsers"),
        ("There is no workaround", "noWorkaround"), ("Service degraded", "slowOrIntermittent"),
        ("Requests are timing out", "slowOrIntermittent"),
        ("The installer crashes", "degraded"), ("Installation halted on site B", "installationsHalted"),
        ("Working in a restricted fashion", "restrictedOperation"), ("Several users report it", "multipleUsers"),
        ("Temporary workaround: restart", "temporaryWorkaround"), ("Minor issue with sorting", "partialLoss"),
        ("Installer warning about Java", "installationsImpaired"), ("No impact on our work", "lowImpact"),
        ("Only one user sees it", "fewUsers"), ("We have a workaround", "longTermWorkaround"), ("Typos in the footer", "cosmetic"),
        ("Was down yesterday, fine now", "resolved"),
        // "No access", a line that drops and a search with no results in the desk's other languages.
        ("Service comptabilité sans accès à l'application de paie", "accessBlocked"),
        ("Lager Nord: kein Zugriff auf die Scanner-App", "accessBlocked"),
        ("La VPN se desconecta cada diez minutos", "slowOrIntermittent"), ("VPN bağlantısı sürekli kopuyor", "slowOrIntermittent"),
        ("Die Benutzersuche liefert keine Ergebnisse", "degraded"),
        ("Ricerca utenti nella console non restituisce risultati", "degraded"),
    ])
    func eachSignalIsFoundInText(text: String, signal: String) {
        #expect(signals(text).contains(signal), "\(text)")
    }

    @Test(arguments: [
        ("The VPN crashed", "degraded", "subject: \"crashed\""), ("the vpn keeps crashing", "degraded", "subject: \"crashing\""),
        ("We are unable to log on", "accessBlocked", "subject: \"unable to log on\""),
        ("we're not able to sign in", "accessBlocked", "subject: \"we're not able to sign in\""),
        ("Everybody's locked out", "majorityUsers", "subject: \"Everybody's\""),
        ("No one can sign into anything", "serviceDown", "subject: \"No one can sign into\""),
        ("the app won't load", "serviceDown", "subject: \"won't load\""),
        ("Logins timed out all morning", "slowOrIntermittent", "subject: \"timed out\""),
    ])
    func inflectionsAndSynonymsMatchAndTheWordsAreQuoted(text: String, signal: String, foundIn: String) {
        #expect(found(text, signal) == foundIn, "\(text)")
    }

    @Test(arguments: [
        ("3 of 900 users cannot log in", "fewUsers", "3 of 900 users"), ("1 user out of 2,000", "fewUsers", "1 user"),
        ("about 40% of staff see it", "multipleUsers", "40%"), ("100% of requests fail", "majorityUsers", "100%"),
        ("all 12 clinics are affected", "majorityUsers", "all 12"), ("two people in accounting", "fewUsers", "two people"),
        ("1 in 10 orders fails", "multipleUsers", "1 in 10 orders"), ("600 of our 900 users", "majorityUsers", "600 of our 900 users"),
        ("5 tablets at the front desk", "multipleUsers", "5 tablets"), ("two stores cannot print", "multipleUsers", "two stores"),
        // A number after a noun or a group names one, unless what it counts follows: "till 4" is
        // one till, "store 12" one store (a site is several), "store 12 staff" twelve people.
        ("Till 4 at the Leeds shop rejects staff badges", "fewUsers", "Till 4"), ("Store 12 cannot clock in", "multipleUsers", "Store 12"),
        ("Store 12 staff cannot clock in", "multipleUsers", "12 staff"), ("front desk 5 tablets offline", "multipleUsers", "5 tablets"),
    ])
    func quantitiesSayHowManyAreAffected(text: String, signal: String, words: String) {
        #expect(found(text, signal) == "subject: \"\(words)\"", "\(text): \(classifier.classify(ClassifierInput(subject: text)).signals)")
    }

    @Test(arguments: ["we have 900 users and one of them sees it", "of our 40 stores, one has a typo", "0% of users affected"])
    func aTotalIsNotACountOfTheAffected(text: String) {
        #expect(!signals(text).contains("majorityUsers") && !signals(text).contains("multipleUsers"), "\(text)")
    }

    /// Words are stemmed, so a phrase for a state is written with the words that make it one:
    /// "restricted" alone would read "can we restrict sign-in", "limited" every "rate limit".
    @Test(arguments: [
        ("Can we restrict sign-in by country?", "restrictedOperation"), ("We hit the API rate limit", "restrictedOperation"),
        ("Payroll app shows the wrong logo", "operationsDisrupted"), ("Do you have a dead letter queue?", "serviceDown"),
        ("The sync ran most of the morning", "majorityUsers"), ("We need an explanation of the outage, nobody can log in", "resolved"),
        // Access lacked on purpose or asked about; a console that signs one out, an offline mode.
        ("¿La app funciona sin acceso a internet?", "accessBlocked"), ("Externe sollen keinen Zugriff haben", "accessBlocked"),
        ("La consola me desconecta cada 15 minutos", "slowOrIntermittent"),
        ("La app en modo desconectado guarda los pedidos", "slowOrIntermittent"),
    ])
    func phrasesReadNoMoreThanTheySay(text: String, signal: String) {
        #expect(!signals(text).contains(signal), "\(text): \(signals(text))")
    }

    /// Asking for a root-cause analysis does not say the outage is over: it is asked during one too.
    @Test(arguments: ["As of 10:40 your service is down again. I expect an RCA afterwards",
                      "Nobody can log in. Please send the root cause when you have it"])
    func anRCAAskedForDoesNotEndTheOutage(text: String) {
        let found = signals(text)
        #expect(found.contains("serviceDown") && !found.contains("resolved"), "\(text): \(found)")
    }

    /// Missing documentation and a help link to nowhere are documentation feedback.
    @Test(arguments: ["No documentation on webhook retries", "The learn more link next to backup codes goes to page not found",
                      "Whitepaper and DPA disagree on data location",
                      // A typo in another language.
                      "Tippfehler im Handbuch, Abschnitt 3", "Refuso nella guida SAML"])
    func missingOrDeadDocumentationIsDocumentationFeedback(text: String) {
        let names = classifier.featureNames(classifier.evidence(ClassifierInput(subject: text)))
        #expect(names.contains("text.docsMistake"), "\(text): \(names)")
        #expect(classifier.classify(ClassifierInput(subject: text)).route == .docs, "\(text)")
    }

    /// Words that look like documentation feedback in a ticket about something else do not read as it.
    @Test(arguments: ["Generated PDF says 0.00 for every line item", "No examples of the error in our logs since Tuesday, but checkout is slow",
                      "No docs needed, just reset my password"])
    func documentationWordsOfOtherThingsAreNotFeedback(text: String) {
        let names = classifier.featureNames(classifier.evidence(ClassifierInput(subject: text)))
        #expect(!names.contains("text.docsMistake"), "\(text): \(names)")
    }

    /// "Not one of us" is nobody; "not one of them" is about things as often as people.
    @Test func notOneOfThemSaysNothingOfPeople() {
        #expect(signals("Not one of us can log in").contains("majorityUsers"))
        for text in ["Tried three workarounds, not one of them worked", "Sent 5 invoices, not a single one arrived"] {
            #expect(!signals(text).contains("majorityUsers"), "\(text): \(signals(text))")
        }
    }

    /// A count with a rate is traffic, not the affected: "600 requests per minute" is no scope.
    @Test(arguments: ["we send 600 requests per minute", "2 logins a second fail", "about 8,000 logins/day",
                      "it allows 5 requests each second"])
    func aRateIsNotACountOfTheAffected(text: String) {
        let found = signals(text)
        #expect(!found.contains("multipleUsers") && !found.contains("fewUsers") && !found.contains("majorityUsers"), "\(text): \(found)")
    }

    /// What is not happening is a problem, not one that is over: "no longer" reads as "not", so
    /// "no longer happening" is not a `resolved` phrase ("not happening anymore" is).
    @Test func whatIsNotHappeningIsNotOver() {
        #expect(!signals("SCIM deprovisioning not happening for Zoom").contains("resolved"))
        #expect(!signals("Deprovisioning is no longer happening").contains("resolved"))
        #expect(signals("The lockouts are not happening anymore").contains("resolved"))
    }

    /// A time alone does not say a problem is over: "after last night's upgrade" dates its start.
    /// An outage in the past tense beside a time does ("sso was down yesterday"); a present tense
    /// does not ("come back later", "recover an account").
    @Test(arguments: [
        ("After last night's upgrade nobody can log in", false), ("Since the update yesterday every till is down", false),
        ("Patients are asked to come back later, the system is down", false),
        ("We need to recover a super admin, nobody can log in", false),
        ("sso was down yesterday about 20 min", true), ("Logins were failing earlier today", true),
        ("It has been fine since 10:00", true), ("The MFA outage seems to have cleared", true),
    ])
    func aTimeAloneDoesNotSayItIsOver(text: String, over: Bool) {
        #expect(signals(text).contains("resolved") == over, "\(text): \(signals(text))")
    }

    /// Endings are dropped ("users" is "user"), so a phrase for one person must say one: "a new
    /// starter" is few, "15 new starters" and "the users" are not.
    @Test func aPhraseForOnePersonSaysOne() {
        #expect(signals("A new starter can't log in").contains("fewUsers"))
        #expect(!signals("15 new starters can't log in").contains("fewUsers"))
        #expect(!signals("We observed that users deactivated in the directory keep access").contains("fewUsers"))
        #expect(!signals("The users in the finance team see errors").contains("fewUsers"))
        #expect(signals("Many of our shop assistants get no SMS code").contains("multipleUsers"))
    }

    @Test(arguments: [
        (Impact(serviceDown: true), "serviceDown", Severity.critical), (Impact(usersAffected: .all), "majorityUsers", .critical),
        (Impact(usersAffected: .majority), "majorityUsers", .critical), (Impact(workaround: Workaround.none), "noWorkaround", .critical),
        (Impact(usersAffected: .multiple), "multipleUsers", .major), (Impact(workaround: .temporary), "temporaryWorkaround", .major),
        (Impact(installations: .halted), "installationsHalted", .major), (Impact(usersAffected: .few), "fewUsers", .minor),
        (Impact(usersAffected: .one), "fewUsers", .minor), (Impact(workaround: .longTerm), "longTermWorkaround", .minor),
        (Impact(workaround: .notScalable), "longTermWorkaround", .minor), (Impact(installations: .impaired), "installationsImpaired", .minor),
        (Impact(cosmetic: true), "cosmetic", .minor),
    ])
    func eachImpactFieldIsASignal(impact: Impact, signal: String, severity: Severity) {
        let result = classifier.classify(ClassifierInput(subject: "Help", impact: impact))
        let found = result.signals.first { $0.signal == signal }
        #expect(found?.severity == severity)
        #expect(found?.foundIn.hasPrefix("impact.") == true)
        #expect(found?.criterion.isEmpty == false)
    }

    @Test(arguments: [("Getting 503 on every page", "serviceDown"), ("Login gives 401", "accessBlocked"),
                      ("I noted the portal is down", "serviceDown"), ("The portal is\u{00A0}down", "serviceDown"),
                      ("The VPN is not slow - it is down", "serviceDown")])
    func numbersNonBreakingSpacesAndDashesAreRead(text: String, signal: String) {
        #expect(signals(text).contains(signal), "\(text)")
    }

    @Test(arguments: ["The service is not down", "No outage, just slow menus", "It isn't unavailable", "There was never an outage",
                      "the portal doesn't seem to be offline"])
    func negationCancelsASignal(text: String) {
        #expect(!signals(text).contains("serviceDown"), "\(text)")
    }

    /// A synonym reads the same wherever it falls: at the end of a text, before a clause's end,
    /// beside a longer one ("unable", "unable to", "can't even"), after another.
    @Test(arguments: ["They are unable", "They are unable.", "They are unable to log in", "They can't even log in",
                      "They can't, the tills log in", "They cannot", "Log in? They can't", "Unable"])
    func synonymsReadTheSameWhereverTheyFall(text: String) {
        let names = classifier.featureNames(classifier.evidence(ClassifierInput(subject: text)))
        #expect(names.contains("word.cannot"), "\(text): \(names)")
        #expect(names.contains("word.login") == text.lowercased().contains("log in"), "\(text): \(names)")
    }

    /// "No offline process" says there is no workaround: not a clause that denies an outage.
    @Test(arguments: ["We have no offline process for this", "There is no offline mode on the tills",
                      "No manual process can cope with the volume"])
    func noOfflineProcessIsNoWorkaround(text: String) {
        #expect(signals(text).contains("noWorkaround"), "\(text)")
        let names = classifier.featureNames(classifier.evidence(ClassifierInput(subject: text)))
        #expect(!names.contains { $0.hasPrefix("deny.") }, "\(text): \(names)")
    }

    @Test(arguments: ["Not slow, but it is down", "No, the site is down", "The API is not responding, and nobody can log in"])
    func aNegationReachesOnlyItsOwnClause(text: String) {
        #expect(signals(text).contains("serviceDown"), "\(text)")
    }

    /// "No users", "no stores" deny what follows: no outage, no majority.
    @Test(arguments: ["No users are locked out, just slow menus", "No stores are down, one till is slow",
                      "Typo on the invoice, no users were affected"])
    func noUsersDeniesWhatFollows(text: String) {
        let verdict = classifier.classify(ClassifierInput(subject: text))
        #expect(verdict.severity == .minor)
        #expect(!verdict.signals.contains { $0.signal == "majorityUsers" || $0.signal == "serviceDown" })
    }

    /// Everyone of a part ("everyone in the finance office", "everyone on the night shift") is
    /// several users, not a majority; everyone in the company is.
    @Test(arguments: [("Everyone in the finance office can't sign in", false), ("everyone on the night shift is locked out", false),
                      ("Everyone at our Leeds site sees the error", false), ("Everyone in the company is locked out", true),
                      ("everyone at all 14 branches gets the error", true)])
    func everyoneOfAPartIsSeveral(text: String, majority: Bool) {
        #expect(signals(text).contains("majorityUsers") == majority, "\(text): \(signals(text))")
    }

    /// "No staff can log in" is an outage: "no X can" followed by getting in or working.
    @Test(arguments: ["No staff can log into Windows this morning", "no nurse can get into the EHR since 7am",
                      "No tills could connect after the update"])
    func noStaffCanGetInIsAnOutage(text: String) {
        #expect(signals(text).contains("serviceDown"), "\(ClassifierEvaluation.explain(classifier.classify(ClassifierInput(subject: text))))")
    }

    /// ...but it still denies the rest, and a wish that no one can is no outage.
    @Test(arguments: ["No user could reproduce it", "No users can see the outage banner, is that expected?",
                      "How do I make sure no staff can log in after 6pm?",
                      "Please confirm that no customer can access other customers' orders"])
    func noStaffCanDeniesAnythingElse(text: String) {
        #expect(!signals(text).contains("serviceDown"))
        #expect(classifier.classify(ClassifierInput(subject: text)).severity != .critical)
    }

    /// The commonest words for "nobody", "everyone", "cannot", "log in" and "unavailable" in
    /// Spanish, Portuguese, French, Italian, German, Dutch, Polish, Turkish and Swedish are synonyms too.
    @Test(arguments: ["NADIE PUEDE ENTRAR EN LOS TPV", "Die Plattform ist ausgefallen, niemand kann sich anmelden",
                      "Tout le monde ne peut pas se connecter", "Il sito è fuori servizio per tutti",
                      "Hiç kimse sisteme giriş yapamıyor, sistem erişilemiyor",
                      "Alla användare kan inte logga in, systemet ligger nere",
                      "HİÇ KİMSE SİSTEME GİRİŞ YAPAMIYOR, SİSTEM ERİŞİLEMİYOR"])
    func otherLanguagesCommonestWordsCount(text: String) {
        #expect(signals(text).isSuperset(of: ["majorityUsers", "serviceDown"]))
    }

    /// All three of the policy's critical criteria stated: critical, whatever the other words
    /// say. One missing, negated or over: the model weighs it.
    @Test func statingEveryCriticalCriterionIsCritical() throws {
        // A model that never says critical: only the rule can.
        let blank = try Classifier.blank(.standard)
        let typo = "The PDF export puts the footer on top of the last row. That's it."
        func severity(_ classifier: Classifier, _ statement: String?, reported: Severity? = nil) -> Severity {
            classifier.classify(ClassifierInput(subject: "PDF export footer", description: typo + (statement.map { "\n\n" + $0 } ?? ""),
                                                reportedSeverity: reported)).severity
        }
        #expect(severity(blank, "No one can log in, no workaround.") == .critical)
        #expect(severity(blank, "No staff can log in and there is no workaround.") == .critical)
        #expect(severity(blank, "No one can log in, we have a workaround.") != .critical)
        #expect(severity(blank, "Not down for everyone, no workaround needed.") != .critical)
        #expect(severity(blank, "No one could log in yesterday, fine now, no workaround.") != .critical)
        // The reporter's critical decides a ticket with too little to read; the statement keeps it
        // critical.
        let help = { (description: String?) in
            self.classifier.classify(ClassifierInput(subject: "Help", description: description, reportedSeverity: .critical)).severity
        }
        #expect(help(nil) == .critical)
        #expect(help("No one can log in, no workaround.") == .critical)
        // A text the model can read outweighs the reporter's critical; the statement makes it critical.
        #expect(severity(classifier, nil, reported: .critical) != .critical)
        #expect(severity(classifier, "No one can log in, no workaround.", reported: .critical) == .critical)
    }

    @Test func pluralsCaseAndPunctuationDoNotMatter() {
        #expect(signals("TYPO!").contains("cosmetic"))
        #expect(signals("several USERS,").contains("multipleUsers"))
        #expect(signals("time-outs", "requests time out").contains("slowOrIntermittent"))
        #expect(signals("drop-down menu misaligned") == ["cosmetic"])
    }

    @Test func everydayWordsForACompanyWideOutageAreCritical() {
        for text in ["Nobody here can get into anything this morning, the sign-in page just spins for every single person",
                     "every lookup against the directory fails across the business",
                     "None of the tills take cards and there's a queue out the door"] {
            let result = classifier.classify(ClassifierInput(subject: text))
            #expect(result.severity == .critical, "\(text): \(ClassifierEvaluation.explain(result))")
        }
    }

    @Test func theReporterDecidesOnlyWhenThereIsTooLittleToRead() {
        let none = ClassifierInput(subject: "Help", reportedSeverity: .major)
        #expect(classifier.classify(none).severity == .major)
        #expect(classifier.classify(ClassifierInput(subject: "Urgent!!", reportedSeverity: .critical)).severity == .critical)
        // Enough words: the model reads them; the reporter's severity is a vote.
        let read = classifier.classify(ClassifierInput(
            subject: "The PDF export puts the footer on top of the last row", reportedSeverity: .critical))
        #expect(read.severity != .critical && read.disagreesWithReporter)
        #expect(classifier.classify(ClassifierInput(subject: "Help")).severity == .minor)
        #expect(classifier.classify(ClassifierInput(subject: "Help")).confidence == 0.2)
        let overstated = classifier.classify(ClassifierInput(subject: "Typo on the login page", reportedSeverity: .critical))
        #expect(overstated.severity == .minor)
        #expect(overstated.disagreesWithReporter)
        let understated = classifier.classify(ClassifierInput(
            subject: "Help", impact: Impact(serviceDown: true, usersAffected: .all), reportedSeverity: .minor))
        #expect(understated.severity == .critical)
        #expect(understated.disagreesWithReporter)
        // The evidence's own probabilities: the reporter's lower vote left out.
        #expect(understated.probabilities["critical"]! >= classifier.model.criticalAt)
        #expect(understated.probabilities["critical"]! > understated.probabilities["major"]!)
    }

    /// Too little to read: fewer than three different words of ordinary clauses, each counted
    /// once; word pairs and the words of clauses that deny do not count, nor does a text with a
    /// criterion above minor or documentation words qualify.
    @Test func tooLittleToReadCountsDifferentWordsOfOrdinaryClauses() {
        func little(_ text: String) -> Bool { classifier.readsTooLittle(classifier.evidence(ClassifierInput(subject: text))) }
        #expect(little("Help"))
        #expect(little("Help help HELP"))
        #expect(little("Help please"))
        #expect(!little("Help please, thanks"))
        #expect(little("Help please. Everyone can log in, nothing is down."))
        #expect(!little("Broken"))
        #expect(!little("KB article typo"))
        // Filed as documentation: the documentation channel, also with a clause that denies.
        for text in ["Help", "Help. Everyone can log in."] {
            #expect(classifier.classify(ClassifierInput(subject: text, category: .documentation)).route == .docs, "\(text)")
        }
    }

    /// With too little to read (minor evidence at most, fewer than three words of ordinary
    /// clauses), no verdict is more urgent than the reporter's view (minor without one, or for a
    /// ticket filed as documentation): on every labelled ticket and its subject alone, as filed
    /// and with each other reported severity.
    @Test func tooLittleToReadNeverOutranksTheReportersView() async throws {
        let tickets = try labelledTickets(developmentSetPath) + labelledTickets(validationSetPath)
        let inputs = tickets.flatMap { labelled in
            var subject = ClassifierInput(labelled.ticket)
            subject.description = nil
            subject.impact = nil
            return [ClassifierInput(labelled.ticket), subject]
        }
        let classifier = classifier
        let (checked, wrong) = try await offThePool {
            var checked = 0, wrong = [String]()
            for input in inputs where classifier.readsTooLittle(classifier.evidence(input)) {
                for reported in [input.reportedSeverity, nil, .minor, .major, .critical] {
                    var changed = input
                    changed.reportedSeverity = reported
                    let result = classifier.classify(changed)
                    let ceiling = input.category == .documentation ? 3 : reported?.level ?? 3
                    checked += 1
                    if result.route == .support, result.severity.level < ceiling { wrong.append("\(input.subject) (\(String(describing: reported)))") }
                }
            }
            return (checked, wrong)
        }
        #expect(checked > 100)
        #expect(wrong.isEmpty, "\(wrong)")
    }

    @Test func criticalTicketsNeedANamedContact() throws {
        let without = classifier.classify(ClassifierInput(subject: "Site down for everyone"))
        #expect(without.severity == .critical && without.needsDedicatedContact)
        let with = classifier.classify(ClassifierInput(subject: "Site down for everyone", impact: Impact(dedicatedContact: "ops@acme.test")))
        #expect(!with.needsDedicatedContact)
        #expect(!classifier.classify(ClassifierInput(subject: "Typo")).needsDedicatedContact)
        // Naming one is itself evidence, kept ordered (critical ≥ major ≥ minor ≥ docs); a blank
        // name is none.
        func names(_ contact: String) -> Set<String> {
            Set(classifier.featureNames(classifier.evidence(ClassifierInput(subject: "Sync stopped", impact: Impact(dedicatedContact: contact)))))
        }
        #expect(names("noc@globex.test").contains("impact.dedicatedContact"))
        for blank in ["  ", "\t", "\n"] { #expect(!names(blank).contains("impact.dedicatedContact")) }
        #expect(ModelFit.criticalEvidence(.standard).contains("impact.dedicatedContact"))
        let weights = try #require(classifier.model.weights["impact.dedicatedContact"])
        #expect(ModelFit.isOrdered(weights), "\(weights)")
    }

    @Test func documentationErrorsAreRoutedToDocs() {
        #expect(classifier.classify(ClassifierInput(subject: "x", category: .documentation)).route == .docs)
        let kb = classifier.classify(ClassifierInput(subject: "KB article about SSO is outdated"))
        #expect(kb.route == .docs)
        #expect(kb.docsReason?.contains("outdated") == true)
        // A service problem is support, even if it mentions the docs.
        #expect(classifier.classify(ClassifierInput(subject: "Following the docs, the site is down for everyone")).route == .support)
    }

    @Test func impactBeatsTheDocumentationCategory() {
        let outage = classifier.classify(ClassifierInput(
            subject: "Everyone is locked out", description: "No workaround.", impact: Impact(serviceDown: true),
            category: .documentation))
        #expect(outage.route == .support)
        #expect(outage.severity == .critical)
        #expect(outage.docsReason == nil)
        #expect(outage.supportReason?.hasPrefix("filed as documentation, but it reports service impact (") == true)
        let typo = classifier.classify(ClassifierInput(subject: "Typo in the KB article on exports", category: .documentation))
        #expect(typo.route == .docs)
        #expect(typo.supportReason == nil)
    }
}

@Suite("Classifier model")
struct ClassifierModelTests {
    @Test func fittingIsDeterministicAndLearnsASeparableSet() {
        let examples = (0..<40).map { i in
            ModelFit.Example(features: [["a"], ["b"], ["c"], ["d"]][i % 4], label: ClassifierModel.Label.allCases[i % 4])
        }
        let first = ModelFit().fit(examples, features: ["a", "b", "c", "d"], provenance: "test")
        #expect(first == ModelFit().fit(examples, features: ["a", "b", "c", "d"], provenance: "test"))
        for (feature, label) in zip(["a", "b", "c", "d"], ClassifierModel.Label.allCases) {
            #expect(first.decide(features: [feature]) == label)
        }
        // Round trip through the file format.
        #expect((try? ClassifierModel.load(yaml: first.yaml)) == first)
    }

    /// Each example is predicted by the model of its fold, fitted on every other fold and
    /// without it; predictions come back in the examples' order.
    @Test func crossValidationPredictsEachExampleWithoutIt() {
        // Each example has a word of its own: a model knows it only when fitted on the example.
        let examples = (0..<12).map { i in
            ModelFit.Example(features: ["word.only\(i)"], label: ClassifierModel.Label.allCases[i % 4])
        }
        var fitting = ModelFit()
        fitting.wordMinCount = 1
        fitting.steps = 10
        let known = fitting.crossValidate(examples, rules: .standard, folds: 3) { model in
            { index in (0..<12).filter { model.weights["word.only\($0)"] != nil } }
        }
        for (index, words) in known.enumerated() {
            #expect(words == (0..<12).filter { $0 % 3 != index % 3 }, "example \(index)")
        }
    }

    /// A signal of the subject is a feature beside the same signal of the text; one of the
    /// description is not, and one the text says is over ("fine now") is neither.
    @Test func aSignalOfTheSubjectWeighsApart() throws {
        let classifier = Classifier()
        func names(_ subject: String, _ description: String?) -> Set<String> {
            Set(classifier.featureNames(classifier.evidence(ClassifierInput(subject: subject, description: description))))
        }
        let inSubject = names("Payroll is down for everyone", "Since nine this morning.")
        #expect(inSubject.isSuperset(of: ["text.serviceDown", "subject.serviceDown", "text.majorityUsers", "subject.majorityUsers"]))
        let inDescription = names("Our HR system", "It is down for everyone since nine this morning.")
        #expect(inDescription.isSuperset(of: ["text.serviceDown", "text.majorityUsers"]))
        #expect(inDescription.filter { $0.hasPrefix("subject.") && !Classifier.isWordFeature($0) }.isEmpty, "\(inDescription)")
        let over = names("Payroll was down", "It came back at ten, fine now.")
        #expect(!over.contains("subject.serviceDown") && !over.contains("text.serviceDown"), "\(over)")
        #expect(over.contains("text.resolved"))
        // Ordered as the signal is: a critical one never lowers, a minor one never raises.
        let rules = ClassificationRules.standard
        #expect(ModelFit.criticalEvidence(rules).isSuperset(of: ["subject.serviceDown", "subject.majorityUsers", "subject.noWorkaround"]))
        #expect(ModelFit.minorEvidence(rules).isSuperset(of: ["subject.resolved", "subject.stillWorks", "subject.cosmetic"]))
        let weights = try #require(classifier.model.weights["subject.serviceDown"])
        #expect(ModelFit.isOrdered(weights), "\(weights)")
        let lowering = try #require(classifier.model.weights["subject.stillWorks"])
        #expect(ModelFit.isLowering(lowering), "\(lowering)")
    }

    /// Critical evidence beside what tempers it is a feature of its own; beside a minor signal it
    /// never raises a verdict.
    @Test func criticalEvidenceBesideWhatTempersItWeighsApart() throws {
        let classifier = Classifier()
        func names(_ description: String) -> Set<String> {
            Set(classifier.featureNames(classifier.evidence(ClassifierInput(subject: "Workday", description: description))))
        }
        let tempered = names("Nobody can open Workday this morning. All other apps are fine.")
        #expect(tempered.isSuperset(of: ["text.majorityUsers", "text.stillWorks", "tempered.majorityUsers.stillWorks"]), "\(tempered)")
        let alone = names("Nobody can open Workday this morning.")
        #expect(alone.contains("text.majorityUsers"))
        #expect(alone.filter { $0.hasPrefix("tempered.") }.isEmpty, "\(alone)")
        let rules = ClassificationRules.standard
        let minor = ModelFit.minorEvidence(rules)
        #expect(minor.isSuperset(of: ["tempered.majorityUsers.stillWorks", "tempered.serviceDown.resolved", "tempered.majorityUnavailable.fewUsers"]))
        #expect(!minor.contains("tempered.serviceDown.temporaryWorkaround") && !minor.contains("tempered.majorityUsers.multipleUsers"))
        for name in minor where name.hasPrefix("tempered.") {
            let weights = try #require(classifier.model.weights[name], "\(name)")
            #expect(ModelFit.isLowering(weights), "\(name): \(weights)")
        }
        #expect(Classifier.features(of: rules).filter { $0.hasPrefix("tempered.") }.count == 50)
    }

    @Test func criticalEvidenceStaysOrderedEvenAgainstTheData() {
        // "x" appears only on minor tickets, but is declared critical evidence.
        let examples = (0..<20).map { ModelFit.Example(features: $0 % 2 == 0 ? ["x"] : [], label: $0 % 2 == 0 ? .minor : .major) }
        let model = ModelFit().fit(examples, features: ["x"], ordered: ["x"], provenance: "")
        let weights = model.weights["x"]!
        #expect(ModelFit.isOrdered(weights), "\(weights)")
    }

    /// The built-in model is read line by line (a YAML parser is slow on ten thousand rows in a
    /// debug build); it reads the same as the YAML parser, which reads any other layout.
    @Test func theWrittenLayoutReadsAsTheYAMLParserReadsIt() async throws {
        let written = ClassifierModel.standardYAML
        let bias = try #require(written.split(separator: "\n").first { $0.hasPrefix("bias: {") && $0.hasSuffix(" }") })
        let extra = written.replacingOccurrences(of: bias, with: bias.dropLast(2) + ", extra: 1 }")
        #expect(extra != written)
        let threshold = try #require(written.split(separator: "\n").first { $0.hasPrefix("criticalAt: ") })
        let outOfRange = written.replacingOccurrences(of: threshold, with: "criticalAt: 3")
        #expect(outOfRange != written)
        // Ten thousand rows parsed as YAML: a second in a debug build, so not on the cooperative pool.
        let (parsed, readsSame, otherLayouts) = try await offThePool {
            let spaced = written.replacingOccurrences(of: "\nweights:\n", with: "\nweights:  \n")
            let parsed = try ClassifierModel.load(yaml: spaced)
            let otherLayouts = [
                spaced,
                outOfRange,
                extra,
            ].map { ClassifierModel.loadWritten($0) }
            return (parsed, ClassifierModel.loadWritten(written) == parsed, otherLayouts)
        }
        #expect(readsSame, "\(parsed.weights.count) rows")
        #expect(otherLayouts.allSatisfy { $0 == nil })
    }

    @Test func criticalWinsAtItsThreshold() {
        let model = ClassifierModel(criticalAt: 0.3, bias: [0, 0, 0, 0], weights: [:])
        #expect(model.decide([0.31, 0.5, 0.19, 0]) == .critical)
        #expect(model.decide([0.29, 0.5, 0.21, 0]) == .major)
        #expect(model.decide([0.1, 0.2, 0.3, 0.4]) == .docs)
    }

    @Test func aModelMustMatchTheLexicon() {
        var model = ClassifierModel.standard
        model.weights["text.nonsense"] = [0, 0, 0, 0]
        #expect(throws: ClassificationRules.RulesError(key: "weights.text.nonsense", problem: "no such feature in the rules")) {
            try Classifier(rules: .standard, model: model)
        }
        model = ClassifierModel.standard
        model.weights["text.cosmetic"] = nil
        #expect(throws: ClassificationRules.RulesError.self) { try Classifier(rules: .standard, model: model) }
        // Naming a dedicated contact must never lower a verdict: its weights stay ordered.
        model = ClassifierModel.standard
        model.weights["impact.dedicatedContact"] = [-1, 0, 0, 1]
        #expect(throws: ClassificationRules.RulesError(
            key: "weights.impact.dedicatedContact",
            problem: "must keep critical ≥ major ≥ minor ≥ docs (naming a dedicated contact never lowers a verdict)")) {
            try Classifier(rules: .standard, model: model)
        }
    }

    /// A word of the subject line is read twice: as a word ("word.till") and as a word of the
    /// subject ("subject.word.till"), which has weights of its own; in a clause that denies, only
    /// as a "deny." word, so the subject never lets a denial raise a verdict.
    @Test func wordsOfTheSubjectLineWeighApart() throws {
        var model = ClassifierModel.standard
        model.weights = model.weights.filter { !Classifier.isWordFeature($0.key) }
        model.weights["word.till"] = [0, 0, 0, 0]
        model.weights["deny.till"] = [0, 0, 0, 0]
        model.weights["subject.word.till"] = [3, 0, 0, 0]
        // Words enough to read: with fewer, the reporter's view decides (`readsTooLittle`).
        for word in ["print", "receipt", "twice"] { model.weights["word." + word] = [0, 0, 0, 0] }
        let classifier = try Classifier(rules: .standard, model: model)
        func names(_ subject: String, _ description: String? = nil) -> [String] {
            classifier.featureNames(classifier.evidence(ClassifierInput(subject: subject, description: description)))
        }
        #expect(names("Tills print receipts twice").contains("subject.word.till"))
        #expect(names("Receipts printed twice", "The tills print receipts twice").contains("word.till"))
        #expect(!names("Receipts printed twice", "The tills print receipts twice").contains("subject.word.till"))
        let denied = names("The tills are fine now")
        #expect(denied.contains("deny.till") && !denied.contains("subject.word.till"), "\(denied)")
        let tills = classifier.classify(ClassifierInput(subject: "Tills print receipts twice"))
        #expect(tills.severity == .critical)
        #expect(tills.words == ["till"], "named once: \(tills.words)")
        #expect(classifier.classify(ClassifierInput(subject: "Receipts printed twice", description: "The tills print receipts twice"))
            .probabilities["critical"]! < tills.probabilities["critical"]!)
    }

    /// A model's words ("word.till") weigh every inflection of the word; in a clause that denies
    /// or plays down, through their "deny." weights, which the fit keeps from raising. The
    /// verdict names the words that weighed for it.
    @Test func wordsOfAClauseThatDeniesWeighApart() throws {
        var model = ClassifierModel.standard
        model.weights = model.weights.filter { !Classifier.isWordFeature($0.key) }
        model.weights["word.till"] = [3, 0, 0, 0]
        model.weights["deny.till"] = [-1, 0, 1, 0]
        let classifier = try Classifier(rules: .standard, model: model)
        let tills = classifier.classify(ClassifierInput(subject: "The tills reject every card"))
        #expect(tills.severity == .critical)
        #expect(tills.words == ["till"])
        for denied in ["The tills are not down", "The tills are fine now", "Everyone can use the tills"] {
            let names = classifier.featureNames(classifier.evidence(ClassifierInput(subject: denied)))
            #expect(names.contains("deny.till") && !names.contains("word.till"), "\(denied): \(names)")
            #expect(classifier.classify(ClassifierInput(subject: denied)).severity != .critical, "\(denied)")
        }
        // Read both ways in one ticket, the word is named once among the verdict's words.
        model.weights["deny.till"] = [0, 0, 2, 0]
        let both = try Classifier(rules: .standard, model: model)
            .classify(ClassifierInput(subject: "The tills are fine now, the tills print every receipt twice"))
        #expect(both.words == ["till"], "\(both.words)")
        // The fit keeps every deny. word from raising, whatever the data say; a model file that
        // does not is refused.
        let examples = (0..<20).map { ModelFit.Example(features: $0 % 2 == 0 ? ["deny.till"] : [], label: $0 % 2 == 0 ? .critical : .minor) }
        let weights = ModelFit().fit(examples, features: [], provenance: "").weights["deny.till"]!
        #expect(ModelFit.isLowering(weights), "\(weights)")
        model.weights["deny.till"] = [0.5, 0, 0, 0]
        #expect(throws: ClassificationRules.RulesError(
            key: "weights.deny.till",
            problem: "must keep critical ≤ major ≤ minor and major ≤ docs (a word of a clause that denies never raises a verdict)")) {
            try Classifier(rules: .standard, model: model)
        }
    }

    /// Two words in a row ("pair.every till") weigh as one feature, every inflection and synonym
    /// of each word, within a clause that does not deny; never across a clause's end.
    @Test func wordPairsWeighWithinAClauseThatDoesNotDeny() throws {
        var model = ClassifierModel.standard
        model.weights = model.weights.filter { !Classifier.isWordFeature($0.key) }
        model.weights["pair.every till"] = [3, 0, 0, 0]
        let classifier = try Classifier(rules: .standard, model: model)
        let pair = ClassifierInput(subject: "EVERY TILLS rejects cards")
        #expect(classifier.featureNames(classifier.evidence(pair)).contains("pair.every till"))
        #expect(classifier.classify(pair).words == ["every till"])
        for apart in ["Every. Till rejects cards", "Till, every one of them, rejects cards", "Every single till rejects cards",
                      "Every till is fine now"] {
            let names = classifier.featureNames(classifier.evidence(ClassifierInput(subject: apart)))
            #expect(!names.contains("pair.every till"), "\(apart): \(names)")
        }
    }

    @Test func aModelsWordsAreOneWordEach() {
        for (words, message) in [(["word.two words"], "weights.word.two words: must name one word"),
                                 (["pair.till"], "weights.pair.till: must name two words"),
                                 (["pair.every  till"], "weights.pair.every  till: must name two words"),
                                 (["pair.till every", "pair.tills every"],
                                  "weights.pair.tills every: is the same pair as weights.pair.till every (one inflection or synonym each)"),
                                 (["word.till", "word.tills"], "weights.word.tills: is the same word as weights.word.till (one inflection or synonym each)")] {
            var model = ClassifierModel.standard
            for word in words { model.weights[word] = [0, 0, 0, 0] }
            model.weights = model.weights.filter { !Classifier.isWordFeature($0.key) || words.contains($0.key) }
            #expect(throws: ClassificationRules.RulesError.self) { try Classifier(rules: .standard, model: model) }
            do {
                _ = try Classifier(rules: .standard, model: model)
            } catch {
                #expect(error.description == message)
            }
        }
    }

    @Test(arguments: [
        ("criticalAt: 2\nbias: {}\nweights: {}\n", "criticalAt: must be a number in (0, 1]"),
        ("criticalAt: 0.3\nbias: { urgent: 1 }\nweights: {}\n", "bias.urgent: unknown class (expected critical, major, minor, docs)"),
        ("criticalAt: 0.3\nbias: { critical: 0, major: 0, minor: 0, docs: 0 }\nweights: { text.typo: { minor: lots } }\n",
         "weights.text.typo.minor: must be a number between -1000 and 1000"),
        ("criticalAt: 0.3\nbias: { critical: 0, major: 0, minor: 0, docs: 0 }\nweights: { text.typo: { critical: 1e308 } }\n",
         "weights.text.typo.critical: must be a number between -1000 and 1000"),
        ("criticalAt: 0.3\nbias: { critical: 0.5 }\nweights: {}\n", "bias.major: is required (critical, major, minor and docs each need a number)"),
    ])
    func invalidModelsAreRefusedWithTheKey(yaml: String, message: String) {
        #expect(throws: ClassificationRules.RulesError.self) { try ClassifierModel.load(yaml: yaml) }
        do {
            _ = try ClassifierModel.load(yaml: yaml)
        } catch {
            #expect(error.description == message)
        }
    }
}

@Suite("Classifier rules file")
struct ClassifierRulesTests {
    @Test(arguments: [
        ("negations: [not]\ncolour: red\n", "colour: unknown key (expected negations, scopeBreaks, synonyms, quantities, signals, docs)"),
        ("negations: [not]\nsynonyms: { two words: [x] }\n", "synonyms.two words: the canonical form must be one word"),
        ("negations: 3\n", "negations: must be a list of phrases"),
    ])
    func invalidRulesAreRefusedWithTheKey(yaml: String, message: String) {
        do {
            _ = try ClassificationRules.load(yaml: yaml)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func everyStructuredSignalMustBeDefinedAndSeveritiesMustBeValid() {
        let withoutCosmetic = ClassificationRules.standardYAML.replacingOccurrences(of: "  cosmetic:\n", with: "  cosmeticX:\n")
        #expect(throws: ClassificationRules.RulesError(key: "signals.cosmetic", problem: "is required (the impact fields produce it)")) {
            try ClassificationRules.load(yaml: withoutCosmetic)
        }
        let badSeverity = ClassificationRules.standardYAML.replacingOccurrences(
            of: "severity: critical\n    criterion: service down", with: "severity: urgent\n    criterion: service down")
        #expect(throws: ClassificationRules.RulesError.self) { try ClassificationRules.load(yaml: badSeverity) }
    }

    @Test func rulesBuiltInCodeNeedEveryImpactSignal() {
        var rules = ClassificationRules.standard
        rules.signals.removeAll { $0.name == "cosmetic" }
        #expect(throws: ClassificationRules.RulesError(key: "signals.cosmetic", problem: "is required (the impact fields produce it)")) {
            try Classifier.blank(rules)
        }
    }

    @Test func theBuiltInLexiconNamesEveryPolicyCriterion() {
        let criteria = Set(ClassificationRules.standard.signals.map(\.name))
        for name in ["serviceDown", "operationsDisrupted", "majorityUsers", "noWorkaround", "installationsHalted", "multipleUsers",
                     "degraded", "temporaryWorkaround", "partialLoss", "lowImpact", "longTermWorkaround", "cosmetic"] {
            #expect(criteria.contains(name), "\(name)")
        }
    }
}
