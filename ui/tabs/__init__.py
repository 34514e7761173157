"""One module per tab of the web app: `build()` lays it out and returns its handles (a dataclass
of named components), `wire()` connects its events. `ui/web.py` assembles them."""
