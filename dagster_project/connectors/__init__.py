"""Connectors: one module per system kind, all on the one shared HTTP client (``http``)."""
