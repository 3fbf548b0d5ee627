#!/usr/bin/env bash
# One-shot: creates every HelpdeskSLA topic (idempotent). Changelogs are compacted.
set -euo pipefail
BOOTSTRAP=${KAFKA_BOOTSTRAP_SERVERS:-kafka:9092}
PARTITIONS=${TOPIC_PARTITIONS:-6}
REPLICATION=${TOPIC_REPLICATION:-1}
topics=(tickets.inbound tickets.received tickets.classified tickets.activity escalation.commands sla.events
        escalation.events notifications notifications.delivered notifications.failed docs.feedback tickets.rejected
        deadletter staffing.events sla.forecast)
for topic in "${topics[@]}"; do
    /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$topic" \
        --partitions "$PARTITIONS" --replication-factor "$REPLICATION"
done
for topic in sla-timer.changelog escalation.changelog forecast.changelog; do
    /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$topic" \
        --partitions "$PARTITIONS" --replication-factor "$REPLICATION" \
        --config cleanup.policy=compact --config min.compaction.lag.ms=60000
done
# No records: its partition 0 names the active forecaster (docs/architecture.md#forecaster).
/opt/kafka/bin/kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic forecast.leader \
    --partitions 1 --replication-factor "$REPLICATION"
/opt/kafka/bin/kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --list
