"""Dutch text analysis for lexical search: folding, stopwords, stemming and compound splitting.

The same analyzer must process documents and queries, so that a query compound such as
``renovatiebegeleiding`` meets its parts in documents and a query ``wagen delen`` meets the
document compound ``deelwagens``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import cache
from importlib import resources

import Stemmer

__all__ = [
    "ANALYZER_VERSION",
    "DEFAULT_ALGORITHM",
    "STOPWORDS",
    "DutchAnalyzer",
    "analyze",
    "build_lexicon",
    "core_lexicon",
    "default_analyzer",
    "fold",
]

# Common Dutch function words, including the question words and verbs that experts use to phrase
# questions ("hoe hebben anderen ...?"), which carry no topic of their own.
_STOPWORD_TEXT = """
    aan achter al alle allen alles als altijd ander andere anderen ben bent bij binnen boven buiten
    daar daarbij daardoor daarin daarmee daarna daarom daarvan daarvoor dan dat de deed deze die
    dit doe doen doet door dus een eens eigen elk elke en enkel enkele er erg even ge gedaan geen
    geweest had hadden heb hebben hebt heeft heel hem hen het hier hij hoe hoeveel hun ieder
    iedere iedereen iemand iets ik in is ja je jij jou jouw kan kon konden kunnen kunt maar mag
    me meer meest men met mij mijn minder moest moet moeten mogen na naar naast niet niets
    niemand nog nu of om omdat ons onder onze ook op over per reeds rond sinds sommige steeds
    te tegen toch toen tot tussen u uit uw van veel via voor waar waarbij waardoor waarin waarmee
    waarom waarop waarover waarvoor wanneer want was wat we weinig wel welk welke werd werden
    wie wij wil willen word wordt worden zal ze zeer zelf zich zij zijn zo zoals zonder zou
    zouden zullen anders bijvoorbeeld gaan gaat ging komen komt laten mee
"""
STOPWORDS: frozenset[str] = frozenset(_STOPWORD_TEXT.split())

_TOKEN = re.compile(r"[^\W_]+")
_LINKERS = ("", "s", "e", "en")
# Combining diacritical marks (the blocks Latin-script accents decompose into under NFKD).
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Snowball 3 renamed the classic (Porter-style) Dutch stemmer "dutch_porter" and made "dutch" a
# Kraaij-Pohlmann variant that strips inner "ge" (begeleiding → beleid, gevel → vel, regenwater
# → renwater), which hurts precision on compounds; older PyStemmer only has the classic one.
DEFAULT_ALGORITHM = "dutch_porter" if "dutch_porter" in Stemmer.algorithms() else "dutch"
_VOWELS = frozenset("aeiouy")
# Bump when the analysis rules change, so saved indexes built with the old rules are refused.
ANALYZER_VERSION = 1
# Compound splitting recurses once per part and takes quadratic time in the word's length, so a
# 5,000-letter "word" (from a pasted blob) ran for seconds and then raised RecursionError. No
# Dutch compound comes near this length; a longer word is kept whole (stemmed, not split).
# ANALYZER_VERSION is not bumped for this: only words over the limit analyse differently, which
# real text does not have, and a bump would make every saved index unreadable.
MAX_COMPOUND_LETTERS = 64


def fold(text: str) -> str:
    """Return ``text`` Unicode-normalised, case-folded and stripped of accents."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    return _COMBINING.sub("", unicodedata.normalize("NFKD", folded))


@cache
def core_lexicon() -> frozenset[str]:
    """Return the bundled list of common Dutch domain words used as compound parts."""
    raw = resources.files("search").joinpath("data/nl_compound_parts.txt").read_text("utf-8")
    return frozenset(fold(w.strip()) for w in raw.splitlines() if w.strip())


def build_lexicon(
    texts: Iterable[str], *, min_count: int = 2, min_length: int = 4
) -> frozenset[str]:
    """Learn compound parts from a corpus: words seen ``min_count`` times, plus the core list.

    Stopwords and words with digits are left out; learned words need ``min_length`` letters
    (the bundled core list may hold shorter, curated parts such as ``net``).
    """
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_TOKEN.findall(fold(text)))
    learned = {
        w
        for w, n in counts.items()
        if n >= min_count and len(w) >= min_length and w.isalpha() and w not in STOPWORDS
    }
    return frozenset(learned | core_lexicon())


class DutchAnalyzer:
    """Turns Dutch text into index terms: folded, stopword-free, stemmed, compounds split.

    ``lexicon`` holds the known word parts for compound splitting (default: the bundled core
    list; use :func:`build_lexicon` to add the corpus' own frequent words).
    """

    def __init__(
        self,
        lexicon: Iterable[str] | None = None,
        *,
        min_part: int = 3,
        algorithm: str = DEFAULT_ALGORITHM,
        cache_size: int = 200_000,
    ) -> None:
        words = core_lexicon() if lexicon is None else frozenset(fold(w) for w in lexicon)
        self.min_part = min_part
        self.algorithm = algorithm
        self.lexicon: frozenset[str] = frozenset(
            w for w in words if len(w) >= min_part and w not in STOPWORDS
        )
        self._stemmer = Stemmer.Stemmer(algorithm)
        self._stems: dict[str, str] = {}
        self._terms: dict[str, tuple[str, ...]] = {}
        self._cache_size = cache_size
        self._lexicon_stems = frozenset(self.stem(w) for w in self.lexicon)

    # -- public API ---------------------------------------------------------------------------

    def analyze(self, text: str) -> list[str]:
        """Return the index terms of ``text`` in order (a compound yields its stem, then parts)."""
        terms: list[str] = []
        cached = self._terms
        for token in _TOKEN.findall(fold(text)):
            found = cached.get(token)
            if found is None:
                found = self.token_terms(token)
            terms.extend(found)
        return terms

    def analyze_words(self, text: str) -> list[tuple[str, tuple[str, ...]]]:
        """Return each word of ``text`` as written, with its index terms (empty for stopwords)."""
        words = _TOKEN.findall(unicodedata.normalize("NFC", text))
        return [(word, self.token_terms(fold(word))) for word in words]

    def token_terms(self, token: str) -> tuple[str, ...]:
        """Return the index terms of one folded token: its stem, then the stems of its parts."""
        found = self._terms.get(token)
        if found is not None:
            return found
        if len(token) < 2 or token in STOPWORDS:
            found = ()
        elif not token.isalpha():
            found = (token,)
        else:
            terms = [self.stem(token)]
            for part in self.split_compound(token):
                part_stem = self.stem(part)
                if part_stem not in terms:
                    terms.append(part_stem)
            found = tuple(terms)
        if len(self._terms) >= self._cache_size:
            self._terms.clear()
        self._terms[token] = found
        return found

    def stem(self, word: str) -> str:
        """Stem a folded word with Snowball Dutch, repeated until stable (wagens → wagen → wag).

        Small fixes on top conflate forms the stemmer leaves apart (ies-plurals, v/z endings,
        doubled final consonants).
        """
        found = self._stems.get(word)
        if found is not None:
            return found
        stem = word[:-1] if word.endswith("ies") and len(word) > 4 else word  # renovaties
        for _ in range(3):
            nxt = self._stemmer.stemWord(stem)
            if nxt == stem or len(nxt) < 2:
                break
            stem = nxt
        if len(stem) > 3:
            last = stem[-1]
            if last == "v" or last == "z":  # bedrijven → bedrijf, huizen → huis
                stem = stem[:-1] + ("f" if last == "v" else "s")
            elif last == stem[-2] and last not in _VOWELS:  # gezinnen → gezin
                stem = stem[:-1]
        if len(self._stems) >= self._cache_size:
            self._stems.clear()
        self._stems[word] = stem
        return stem

    def split_compound(self, word: str) -> list[str]:
        """Return the known parts of a compound, outermost first, then parts of long parts.

        ``hemelwateropvang`` gives ``hemel, water, opvang`` (or ``hemelwater, opvang, hemel,
        water`` when ``hemelwater`` is in the lexicon). A word that is no compound gives ``[]``.
        """
        parts = self._best_split(word)
        if not parts:
            return []
        result = list(parts)
        for part in parts:
            if len(part) >= 2 * self.min_part:
                result.extend(p for p in self.split_compound(part) if p not in result)
        return result

    def fingerprint(self) -> str:
        """Return a short hash that changes whenever the analyzer would produce other terms."""
        digest = hashlib.sha256()
        digest.update(f"{ANALYZER_VERSION}|{self.algorithm}|{self.min_part}|".encode())
        digest.update("\n".join(sorted(STOPWORDS)).encode())
        digest.update(b"|")
        digest.update("\n".join(sorted(self.lexicon)).encode())
        return digest.hexdigest()[:16]

    def config(self) -> dict[str, object]:
        """Return the settings that rebuild this analyzer with :meth:`from_config`."""
        return {
            "algorithm": self.algorithm,
            "min_part": self.min_part,
            "lexicon": sorted(self.lexicon),
            "fingerprint": self.fingerprint(),
        }

    @classmethod
    def from_config(cls, config: dict[str, object]) -> DutchAnalyzer:
        """Rebuild an analyzer from :meth:`config` output."""
        lexicon = config["lexicon"]
        if not isinstance(lexicon, list):
            raise ValueError("analyzer config: 'lexicon' must be a list of words")
        return cls(
            [str(w) for w in lexicon],
            min_part=int(str(config["min_part"])),
            algorithm=str(config["algorithm"]),
        )

    @classmethod
    def from_corpus(
        cls,
        texts: Iterable[str],
        *,
        min_count: int = 2,
        min_part: int = 3,
        algorithm: str = DEFAULT_ALGORITHM,
    ) -> DutchAnalyzer:
        """Build an analyzer whose lexicon adds the corpus' frequent words to the core list."""
        lexicon = build_lexicon(texts, min_count=min_count)
        return cls(lexicon, min_part=min_part, algorithm=algorithm)

    # -- compound splitting -------------------------------------------------------------------

    def _best_split(self, word: str) -> tuple[str, ...] | None:
        """Best split of ``word`` into at least two known parts, or None."""
        if len(word) < 2 * self.min_part or len(word) > MAX_COMPOUND_LETTERS:
            return None
        found = self._split_from(word, 0, {})
        return found[1] if found else None

    def _split_from(
        self,
        word: str,
        start: int,
        memo: dict[int, tuple[tuple[int, int, int], tuple[str, ...]] | None],
    ) -> tuple[tuple[int, int, int], tuple[str, ...]] | None:
        """Best split of ``word[start:]`` into known parts (the last may be inflected).

        Preference: fewest parts, then fewest linking morphemes, then the longest parts. At
        ``start == 0`` the whole word is no answer: a compound has at least two parts.
        """
        if start in memo:
            return memo[start]
        tail = word[start:]
        best: tuple[tuple[int, int, int], tuple[str, ...]] | None = None
        # The last part may be inflected (deelwagens: wagens ~ wagen); stem matching is kept for
        # tails of four letters or more, where a chance hit is unlikely.
        if start > 0 and (
            (len(tail) >= self.min_part and tail in self.lexicon)
            or (len(tail) >= 4 and self.stem(tail) in self._lexicon_stems)
        ):
            best = ((1, 0, -(len(tail) ** 2)), (tail,))
        for end in range(len(word) - self.min_part, start + self.min_part - 1, -1):
            head = word[start:end]
            if head not in self.lexicon:
                continue
            for linker in _LINKERS:
                nxt = end + len(linker)
                if word[end:nxt] != linker:
                    continue
                rest = self._split_from(word, nxt, memo)
                if rest is None:
                    continue
                (n_parts, n_links, neg_sq), parts = rest
                key = (n_parts + 1, n_links + bool(linker), neg_sq - len(head) ** 2)
                if best is None or key < best[0]:
                    best = (key, (head, *parts))
        memo[start] = best
        return best


@cache
def default_analyzer() -> DutchAnalyzer:
    """Return the shared analyzer with the bundled core lexicon (built on first use)."""
    return DutchAnalyzer()


def analyze(text: str) -> list[str]:
    """Analyze ``text`` with the default analyzer; see :meth:`DutchAnalyzer.analyze`."""
    return default_analyzer().analyze(text)
