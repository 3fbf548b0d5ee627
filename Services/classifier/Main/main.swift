import ClassifierService
import Foundation
import HelpdeskModel
import ServiceRuntime

// classifier: tickets.received → tickets.classified | docs.feedback, and notifications for the
// customer (a documentation ticket, a critical ticket without a dedicated contact).
do {
    try await ServiceHost.run(serviceName: ClassifierProcessor.service, defaultHTTPPort: 8082) { context, reader in
        var rules = ClassificationRules.standard
        if let path = reader.optionalString("CLASSIFIER_RULES_FILE") {
            do {
                rules = try ClassificationRules.load(file: path)
            } catch {
                reader.fail("CLASSIFIER_RULES_FILE=\(path): \(error)")
            }
        }
        return ServiceParts(
            source: .init(group: ConsumerGroups.classifier, topics: [Topics.received],
                          instanceID: context.configuration.kafka.properties["group.instance.id"]),
            processor: ClassifierProcessor(classifier: Classifier(rules: rules), documentationForm: reader.policy().documentationForm))
    }
} catch {
    FileHandle.standardError.write(Data("classifier: \(error)\n".utf8))
    exit(1)
}
