"""The web app: Gradio UI and the HTTP API, served on one port by `python app.py`."""
