import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime

/// The classifier, built on `dependencies`' broker: tickets.received → tickets.classified |
/// docs.feedback, and notifications for the customer (a documentation ticket, a critical
/// ticket without a dedicated contact).
public func buildClassifier(_ dependencies: ServiceDependencies) throws -> BuiltService {
    let reader = dependencies.reader
    var rules = ClassificationRules.standard
    var model = ClassifierModel.standard
    if let path = reader.optionalString("CLASSIFIER_RULES_FILE") {
        do {
            rules = try ClassificationRules.load(file: path)
        } catch {
            reader.fail("CLASSIFIER_RULES_FILE=\(path): \(error)")
        }
    }
    if let path = reader.optionalString("CLASSIFIER_MODEL_FILE") {
        do {
            model = try ClassifierModel.load(file: path)
        } catch {
            reader.fail("CLASSIFIER_MODEL_FILE=\(path): \(error)")
        }
    }
    var classifier = Classifier()
    do {
        classifier = try Classifier(rules: rules, model: model)
    } catch {
        reader.fail("CLASSIFIER_MODEL_FILE: \(error)")
    }
    let documentationForm = reader.policy().documentationForm
    return try buildService(dependencies) { context in
        ServiceParts(
            source: .init(group: ConsumerGroups.classifier, topics: [Topics.received],
                          instanceID: context.configuration.kafka.properties["group.instance.id"]),
            processor: ClassifierProcessor(classifier: classifier, documentationForm: documentationForm))
    }
}
