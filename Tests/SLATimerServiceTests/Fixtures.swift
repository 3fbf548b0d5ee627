import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime
import SLATimerService
import TestSupport

extension PartitionDriver where State == SLATimerPartition {
    convenience init(policy: SLAPolicy = .standard, metrics: SLATimerMetrics = SLATimerMetrics()) {
        self.init(SLATimerPartition(partition: 0, policy: policy, metrics: metrics))
    }
}
