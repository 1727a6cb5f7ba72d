"""Where the IRIs this server mints are served: IRI <-> local path (records live at their IRI's
path, under the base IRI or the project root `https://w3id.org/100wijken/`)."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pyoxigraph as ox

from kg.errors import NotFoundError
from ontology.namespaces import ROOT

_IRI_CHARS = re.compile(r"[^<>\"{}|^`\\\x00-\x20]*")


class IriPaths:
    """Maps minted IRIs to local paths and back."""

    def __init__(self, base_iri: str) -> None:
        self.prefixes: list[tuple[str, str]] = [(ROOT, "/")]
        if not base_iri.startswith(ROOT):
            self.prefixes.insert(0, (base_iri, urlparse(base_iri).path))

    def path_for(self, iri: str) -> str | None:
        """The local path that serves `iri`, or None for IRIs served elsewhere."""
        for iri_prefix, path_prefix in self.prefixes:
            if iri.startswith(iri_prefix):
                return path_prefix + iri[len(iri_prefix) :]
        return None

    def iri_for(self, path: str) -> str:
        """The IRI a local path stands for; NotFoundError if it cannot be one of ours.

        The IRI goes into a SPARQL query, so characters an IRI cannot hold (`>`, `{`, spaces,
        quotes…) are refused here rather than escaped there, and so is anything else that is no
        valid IRI (RFC 3987: control characters such as U+0084, private-use code points in the
        path, broken percent-encoding), which the query parser would reject: the store cannot
        hold such an IRI, so there is no resource.
        """
        for iri_prefix, path_prefix in self.prefixes:
            if path.startswith(path_prefix) and _IRI_CHARS.fullmatch(path):
                iri = iri_prefix + path[len(path_prefix) :]
                try:
                    ox.NamedNode(iri)
                except ValueError:
                    break
                return iri
        raise NotFoundError(f"no resource at {path}")
