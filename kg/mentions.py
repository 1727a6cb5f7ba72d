"""Dutch mention linking: find actors, municipalities, themes and other graph terms named in a
text. Ingest links a record's text to what it mentions; search recognises what a question names.

spaCy has no trained Dutch pipeline on PyPI, so this uses the Dutch vocabulary of
`spacy.blank("nl")`, the lookup lemmatizer's table from `spacy-lookups-data`, and phrase matchers
built from the graph's own labels and altLabels:

- abbreviations and place names match case-sensitively, so the municipality "Boom" is not found
  in "boom" and the actor "ODE" not in "ode"; a place name that is also a Dutch word counts only
  where its capital cannot come from the start of a sentence;
- other names match case-insensitively;
- concept labels (themes, types, thesaurus terms: `Term.inflect`) match in their inflected
  forms too ("renovaties", "deelwagens"): each pattern word is expanded, once, to its lemma and
  their regular plurals;
- with `fold_names` (for typed questions, which are often all lowercase) a name also matches in
  lowercase ("gent", "vme") unless its lowercase form is a Dutch word ("boom", "ode");
- where matches overlap, the longest wins.

Expanding the patterns instead of lemmatizing every text, and splitting words with one regular
expression instead of spaCy's affix rules (the matchers only need word boundaries), keeps linking
fast: 10,000 records of ~110 words in about a second instead of seven.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from typing import Any

SENTENCE_END = {".", "!", "?", ":", ";", "•", "-", "–"}
# A word (letters/digits, with inner hyphens or apostrophes: "Heist-op-den-Berg", "auto's")
# or one punctuation mark.
WORD = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]")


@dataclass(frozen=True)
class Term:
    """A label that names a resource of the graph. `kind` says what it names (actor,
    municipality, theme, ...); `inflect` matches the label's inflected forms too (the default
    for themes), for concept words rather than names."""

    label: str
    iri: str
    kind: str
    inflect: bool | None = None

    @property
    def inflected(self) -> bool:
        return self.kind == "theme" if self.inflect is None else self.inflect


@dataclass(frozen=True)
class Mention:
    """Where a text names a term: the character span, the words as written, and what they
    name."""

    start: int
    end: int
    text: str
    iri: str
    kind: str


def _import_spacy() -> Any:
    """Import spaCy without letting thinc import torch.

    thinc probes for torch at import; with the sentence-transformers extra installed that probe
    loads torch, which makes `import spacy` take ~4x longer. Linking needs no torch, so the probe
    is answered "not installed" (an ImportError) for the duration of the import only.
    """
    import sys

    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # None makes `import torch` fail
    try:
        import spacy
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return spacy


@lru_cache(maxsize=1)
def dutch_vocab() -> tuple[Any, dict[str, str]]:
    """spaCy's Dutch vocabulary and the Dutch lemma lookup table, built once.

    The table is read straight from spacy-lookups-data's JSON into a dict: building spaCy's
    hashed `Table` from it takes ~15x longer and the linker only needs `get`.
    """
    import gzip
    import json
    from importlib.resources import files

    _import_spacy()
    from spacy.lang.nl import Dutch
    from spacy.vocab import create_vocab

    # The vocabulary `spacy.blank("nl")` builds, without building its tokenizer: the tokenizer's
    # 4,670 Dutch special cases take ~1.7 s to load and linking splits words by itself.
    vocab = create_vocab("nl", Dutch.Defaults)
    resource = files("spacy_lookups_data").joinpath("data", "nl_lemma_lookup.json.gz")
    try:
        table = json.loads(gzip.decompress(resource.read_bytes()))
    except FileNotFoundError:  # another layout of the package: take spaCy's own loader
        from spacy.lookups import load_lookups

        table = dict(load_lookups("nl", ["lemma_lookup"]).get_table("lemma_lookup").items())
    return vocab, table


def _case_sensitive(term: Term) -> bool:
    label = term.label.strip()
    return term.kind == "municipality" or label.isupper() or len(label) <= 4


def _plurals(word: str) -> set[str]:
    """Regular Dutch plural and genitive forms of a noun (renovatie → renovaties, boom →
    bomen, net → netten, wijk → wijken)."""
    forms = {word + "s", word + "'s", word + "en"}
    if word.endswith("e"):
        forms.add(word + "n")
    long_vowel = re.match(r"^(.*)(aa|ee|oo|uu)([^aeiou])$", word)
    if long_vowel:
        forms.add(long_vowel.group(1) + long_vowel.group(2)[0] + long_vowel.group(3) + "en")
    if re.search(r"[^aeiou][aeiou][^aeiouwy]$", word):
        forms.add(word + word[-1] + "en")
    if word.endswith("f"):
        forms.add(word[:-1] + "ven")
    if word.endswith("s"):
        forms.add(word[:-1] + "zen")
    return forms


def _forms(word: str, table: Any) -> set[str]:
    """Surface forms of a label word: itself, its lemma, and the plurals of both."""
    lemma = table.get(word, word)
    return {word, lemma} | _plurals(word) | _plurals(lemma)


def _verbs(noun: str) -> set[str]:
    """The verb of a Dutch nominalisation, so its forms meet the noun by lemma: financiering →
    financieren, renovatie → renoveren, samenwerking → samenwerken."""
    if noun.endswith("ing") and len(noun) > 6:
        return {noun[:-3] + "en"}
    if noun.endswith("atie") and len(noun) > 6:
        return {noun[:-4] + "eren"}
    return set()


# Municipalities whose name is in the lemma list only as a rare or archaic word: linked even at
# the start of a sentence. (Boom, Geel, Mol, Peer, Lier, As, Halen, Menen ... stay ambiguous.)
_RARE_AS_WORDS = frozenset({"gent", "beringen", "deerlijk", "wichelen"})


@lru_cache(maxsize=1)
def _dutch_words() -> frozenset[str]:
    """Lowercase Dutch words known to the lookup table (its forms' lemmas)."""
    _, table = dutch_vocab()
    return frozenset(table.values()) - _RARE_AS_WORDS


class MentionLinker:
    """Links mentions in Dutch text to the IRIs of the terms it was built from."""

    def __init__(self, terms: Iterable[Term], *, fold_names: bool = False,
                 lemmas: bool = False) -> None:
        self.vocab, table = dutch_vocab()  # imports spaCy first, without torch
        from spacy.matcher import PhraseMatcher

        vocab = self.vocab
        self._table = table
        self._exact = PhraseMatcher(vocab, attr="ORTH")
        self._lower = PhraseMatcher(vocab, attr="LOWER")
        # With `lemmas`, concept labels also match on the lemmas of the text's words, so verb
        # forms meet their infinitive ("gefinancierd" → "financieren", "gerenoveerd").
        self._lemma = PhraseMatcher(vocab, attr="LEMMA") if lemmas else None
        self._iris: dict[str, str] = {}
        self._kinds: dict[str, str] = {}
        self._ambiguous: set[str] = set()
        patterns: dict[tuple[str, str], set[str]] = {}
        for term in terms:
            label = " ".join(term.label.split())
            if len(label) < 2:
                continue
            key = f"{term.kind}|{term.iri}"
            self._iris[key] = term.iri
            self._kinds[key] = term.kind
            if term.inflected:
                *head, last = [w.lower() for w in label.split()]
                options = [{w, table.get(w, w)} for w in head] + [_forms(last, table)]
                variants = [" ".join(v) for v in product(*options)]
                patterns.setdefault(("lower", key), set()).update(variants[:64])
                if self._lemma is not None:
                    lowered = " ".join([*head, last])
                    patterns.setdefault(("lemma", key), set()).update(
                        {lowered} | {" ".join([*head, v]) for v in _verbs(last)})
            elif _case_sensitive(term):
                patterns.setdefault(("exact", key), set()).add(label)
                if term.kind == "municipality" and " " not in label and (
                        label.lower() in _dutch_words()):
                    self._ambiguous.add(label)
                if fold_names and all(w.lower() not in _dutch_words()
                                      for w in WORD.findall(label) if w.isalpha()):
                    patterns.setdefault(("lower", key), set()).add(label)
            else:
                patterns.setdefault(("lower", key), set()).add(label)
        matchers = {"exact": self._exact, "lower": self._lower, "lemma": self._lemma}
        for (matcher, key), labels in patterns.items():
            docs = [self._doc(label) for label in sorted(labels)]
            target = matchers[matcher]
            if target is not None:
                target.add(key, docs)

    def _doc(self, text: str) -> Any:
        from spacy.tokens import Doc

        words = WORD.findall(text)
        if self._lemma is None:
            return Doc(self.vocab, words=words)
        lowered = [w.lower() for w in words]
        return Doc(self.vocab, words=words, lemmas=[self._table.get(w, w) for w in lowered])

    def link(self, texts: Sequence[str]) -> list[set[str]]:
        """For each text, the IRIs of the resources it mentions."""
        return [{m.iri for m in self.mentions(text)} for text in texts]

    def mentions(self, text: str) -> list[Mention]:
        """The mentions in one text, in text order."""
        words = [(m.start(), m.end()) for m in WORD.finditer(text)]
        doc = self._doc(text)
        spans: list[tuple[int, int, str]] = []
        for matcher in (self._exact, self._lower, self._lemma):
            if matcher is None:
                continue
            for match_id, start, end in matcher(doc):
                token = doc[start]
                if token.text in self._ambiguous and (
                        start == 0 or doc[start - 1].text in SENTENCE_END):
                    continue
                spans.append((start, end, self.vocab.strings[match_id]))
        # Longest match wins: "energie" inside "Vlaams Energie- en Klimaatagentschap" is
        # part of the actor's name, not a mention of the theme.
        taken: set[int] = set()
        found: dict[tuple[int, int, str], None] = {}
        for start, end, key in sorted(set(spans), key=lambda m: (m[0] - m[1], m[0], m[2])):
            if taken.isdisjoint(range(start, end)):
                taken.update(range(start, end))
                found[(start, end, key)] = None
            elif set(range(start, end)) <= taken and any(
                    s0 == start and e0 == end for s0, e0, other in spans if other != key):
                found[(start, end, key)] = None  # the same words name two resources: keep both
        out = []
        for start, end, key in sorted(found):
            a, b = words[start][0], words[end - 1][1]
            out.append(Mention(a, b, text[a:b], self._iris[key], self._kinds[key]))
        return out
