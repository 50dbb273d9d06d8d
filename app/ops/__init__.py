"""Running the app in production: health and readiness probes, the JSON request log, the
Prometheus metrics and backups. `init_app` wires the first three (one call from the factory);
backups are CLI commands (`app.ops.cli`)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.ops import metrics, request_log
    from app.ops.health import bp

    request_log.init_app(app)
    metrics.init_app(app)
    app.register_blueprint(bp)
    if app.config.get("BENCH_ENDPOINTS"):
        from app.ops.bench import bp as bench_bp

        app.register_blueprint(bench_bp)
