"""Shared plumbing of every FundWatch service: settings, event store, outbox relay, Kafka bus,
consumer runner, identity, errors, telemetry and the service factory."""
