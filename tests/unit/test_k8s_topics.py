"""The cluster's topics are the platform's topics: the broker there creates none by itself."""

from pathlib import Path

import yaml

from contracts.catalog import ALL_TOPICS

TOPICS = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "infra" / "kafka-topics.yaml"


def test_every_topic_of_the_platform_has_its_kafka_topic_resource_with_replicas_to_survive_a_broker():
    resources = [r for r in yaml.safe_load_all(TOPICS.read_text()) if r and r["kind"] == "KafkaTopic"]
    assert sorted(r["spec"]["topicName"] for r in resources) == sorted(ALL_TOPICS)
    assert {(r["spec"]["replicas"], r["spec"]["config"]["min.insync.replicas"]) for r in resources} == {(3, 2)}
