"""Operations: Prometheus metrics (:mod:`monitoring.metrics`), liveness and readiness
(:mod:`monitoring.health`) and JSON logs (:mod:`monitoring.json_logs`), shared by every server."""
