"""The one server: HTTP API routes and the web UI on one port (started by `python app.py`)."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from . import api
from .config import SpaceConfig, load_config
from .jobs import JobQueue, ModelRegistry

log = logging.getLogger(__name__)


def create_app(config: SpaceConfig | None = None) -> FastAPI:
    config = config or load_config()
    registry = ModelRegistry(config)
    jobs = JobQueue(config, registry)
    app = FastAPI(title=config.title, docs_url="/api/docs", openapi_url="/api/openapi.json")
    app.state.config, app.state.registry, app.state.jobs = config, registry, jobs
    api.install(app, jobs, config.default_model, config.limits.max_body_bytes)
    from .web import mount_ui

    mount_ui(app, config, registry, jobs)
    # Gradio checks that every file a handler receives was uploaded (or made by the app) only
    # once `has_launched` is set, which `launch()` does and `mount_gradio_app` does not: without
    # it, `{"path": "/any/file", "meta": {"_type": "gradio.FileData"}}` reads server files.
    app.state.demo.has_launched = True
    return app


def preload(app: FastAPI) -> None:
    """Load the default model before serving, so the first request does not wait for it."""
    config: SpaceConfig = app.state.config
    try:
        app.state.registry.get(config.default_model)
    except Exception as e:  # the server still starts; requests for it get the same message
        log.error("default model %s could not be loaded: %s", config.default_model, e)
