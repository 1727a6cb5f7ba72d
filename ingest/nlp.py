"""Dutch mention linking: find actors, municipalities and themes named in a record's text.

spaCy has no trained Dutch pipeline on PyPI, so this uses `spacy.blank("nl")` with the lookup
lemmatizer of `spacy-lookups-data` and phrase matchers built from the graph's own labels and
altLabels. Abbreviations and place names match case-sensitively (so the municipality "Boom" is
not found in "boom" and "ODE" not in "ode"); theme labels match on lemmas (so "renovaties"
finds "renovatie").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

Kind = Literal["actor", "municipality", "theme"]


@dataclass(frozen=True)
class Term:
    """A label that names a resource of the graph."""

    label: str
    iri: str
    kind: Kind


@lru_cache(maxsize=1)
def dutch_pipeline() -> Any:
    """A blank Dutch pipeline with a sentencizer and the lookup lemmatizer (built once)."""
    import spacy

    nlp = spacy.blank("nl")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


def _case_sensitive(term: Term) -> bool:
    label = term.label.strip()
    return term.kind == "municipality" or label.isupper() or len(label) <= 4


class MentionLinker:
    """Links mentions in Dutch text to the IRIs of the terms it was built from."""

    def __init__(self, terms: Iterable[Term]) -> None:
        from spacy.matcher import PhraseMatcher

        self.nlp = dutch_pipeline()
        vocab = self.nlp.vocab
        self._exact = PhraseMatcher(vocab, attr="ORTH")
        self._lower = PhraseMatcher(vocab, attr="LOWER")
        self._lemma = PhraseMatcher(vocab, attr="LEMMA")
        self._iris: dict[str, str] = {}
        self._ambiguous: set[str] = set()
        lookups = self.nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
        groups: dict[tuple[str, str], list[str]] = {}
        for term in terms:
            label = " ".join(term.label.split())
            if len(label) < 2:
                continue
            if term.kind == "theme":
                matcher = "lemma"
            elif _case_sensitive(term):
                matcher = "exact"
            else:
                matcher = "lower"
            key = f"{term.kind}|{term.iri}"
            self._iris[key] = term.iri
            groups.setdefault((matcher, key), []).append(label)
            if term.kind == "municipality" and " " not in label and label.lower() in lookups:
                self._ambiguous.add(label)
        for (matcher, key), labels in groups.items():
            if matcher == "lemma":
                self._lemma.add(key, list(self.nlp.pipe(labels)))
            elif matcher == "exact":
                self._exact.add(key, [self.nlp.make_doc(label) for label in labels])
            else:
                self._lower.add(key, [self.nlp.make_doc(label) for label in labels])

    def link(self, texts: Sequence[str], *, batch_size: int = 256) -> list[set[str]]:
        """For each text, the IRIs of the resources it mentions."""
        out: list[set[str]] = []
        for doc in self.nlp.pipe(texts, batch_size=batch_size):
            found: set[str] = set()
            for matcher in (self._exact, self._lower, self._lemma):
                for match_id, start, _end in matcher(doc):
                    key = self.nlp.vocab.strings[match_id]
                    token = doc[start]
                    # A municipality named like a common word ("Boom", "Zele") counts only
                    # where the capital letter cannot come from the start of a sentence.
                    if token.text in self._ambiguous and token.is_sent_start:
                        continue
                    found.add(self._iris[key])
            out.append(found)
        return out
