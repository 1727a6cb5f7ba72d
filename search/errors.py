"""Errors of the search floor that its lowest modules raise (the embedders and the e5 model
builders both import them, so they live apart from either)."""

from __future__ import annotations


class EmbedderError(ValueError):
    """An embedder spec or model that cannot be resolved or loaded (a configuration error)."""
