"""The cluster's manifests hold to the platform: its topics, their message limits and retention, and the monitoring."""

from pathlib import Path

import yaml

from contracts.catalog import ALL_TOPICS

TOPICS = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "infra" / "kafka-topics.yaml"


def test_every_topic_of_the_platform_has_its_kafka_topic_resource_with_replicas_to_survive_a_broker():
    resources = [r for r in yaml.safe_load_all(TOPICS.read_text()) if r and r["kind"] == "KafkaTopic"]
    assert sorted(r["spec"]["topicName"] for r in resources) == sorted(ALL_TOPICS)
    assert {(r["spec"]["replicas"], r["spec"]["config"]["min.insync.replicas"]) for r in resources} == {(3, 2)}


def test_every_topic_takes_the_largest_message_the_producer_sends_and_keeps_what_the_outbox_keeps():
    from backbone.bus import MAX_MESSAGE_BYTES
    from backbone.eventstore import MAX_EVENT_BYTES
    from backbone.settings import Settings

    resources = [r for r in yaml.safe_load_all(TOPICS.read_text()) if r and r["kind"] == "KafkaTopic"]
    assert MAX_EVENT_BYTES < MAX_MESSAGE_BYTES <= min(r["spec"]["config"]["max.message.bytes"] for r in resources)
    outbox_hours = Settings.model_fields["outbox_retention_hours"].default
    assert {r["spec"]["config"]["retention.ms"] for r in resources} == {int(outbox_hours * 3600 * 1000)}


def test_the_monitoring_alerts_and_dashboard_ask_only_for_metrics_the_platform_exports():
    import json
    import re

    from backbone import metrics

    monitoring = TOPICS.parents[1] / "monitoring"
    exported = {m._name for m in vars(metrics).values() if hasattr(m, "_name") and hasattr(m, "_type")}
    exported |= {f"{name}_total" for name in exported} | {f"{name}_bucket" for name in exported}
    exported.add("process_start_time_seconds")
    rules = [r["expr"] for g in yaml.safe_load((monitoring / "prometheusrule.yaml").read_text())["spec"]["groups"]
             for r in g["rules"]]
    panels = [t["expr"] for p in json.loads((monitoring / "dashboard.json").read_text())["panels"] for t in p["targets"]]
    asked = {name for expr in rules + panels for name in re.findall(r"\b(fundwatch_\w+|process_start_time_seconds)", expr)}
    assert asked and asked <= exported, asked - exported
    assert {"FundWatchOutboxStuck", "FundWatchConsumerLagGrowing", "FundWatchDeadLetters", "FundWatchRestarts"} <= {
        r["alert"] for g in yaml.safe_load((monitoring / "prometheusrule.yaml").read_text())["spec"]["groups"]
        for r in g["rules"]}
