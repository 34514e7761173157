"""The browser side. Until the Gradio app lands, "/" is a small page that says what runs here."""

from __future__ import annotations

import html

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from .config import SpaceConfig
from .jobs import JobQueue, ModelRegistry


def mount_ui(app: FastAPI, config: SpaceConfig, registry: ModelRegistry, jobs: JobQueue) -> None:
    @app.get("/", response_class=HTMLResponse)
    async def index() -> str:
        models = "".join(f"<li><code>{html.escape(m)}</code></li>" for m in registry.available())
        return f"""<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(config.title)}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto">
<h1>{html.escape(config.title)}</h1>
<p>The HTTP API is live on this port: <code>POST /api/decode/stream</code> (Server-Sent
Events), <code>POST /v1/chat/completions</code> (OpenAI-compatible), <code>GET /v1/models</code>,
<a href="/api/docs">API docs</a>.</p>
<p>Models offered here:</p><ul>{models}</ul></body></html>"""
