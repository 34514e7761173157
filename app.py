"""Entry point: `python app.py` serves the web UI and the HTTP API on one port.

Port: GRADIO_SERVER_PORT (default 7860); host: GRADIO_SERVER_NAME (default 0.0.0.0).
Settings: spaces.yaml (PASTA_SPACES_CONFIG=path for another file, PASTA_DEFAULT_MODEL=spec to
override the default model).
"""

from __future__ import annotations

import logging
import os

import uvicorn

from ui.server import create_app, preload


def main() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    preload(app)
    host = os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0")
    port = int(os.environ.get("GRADIO_SERVER_PORT", "7860"))
    logging.getLogger(__name__).info("serving on http://%s:%d", host, port)
    uvicorn.run(app, host=host, port=port, log_level="warning")


if __name__ == "__main__":
    main()
