"""Property test of the whole pipeline on a real store: records that pass or nearly pass the
validator, through resolution, mention linking, RDF mapping and SHACL, end in a report or an
IngestError, never in another exception, and a dry run never changes the store."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from api.knowledgebase import KnowledgeBase
from kg.errors import IngestError

pytestmark = pytest.mark.filterwarnings(
    "ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

TYPES = ["lesson", "threshold", "measure", "breakthrough", "actor", "neighbourhood", "activity",
         "document"]
IDS = [f"r-{n}" for n in range(6)]
words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
names = st.one_of(words, st.sampled_from(["Gent", "44021", "Gendt", "Brussel", "VEKA", "Sint-"
                                          "Niklaas", "Antwerpen (stad)", ""]))
records = st.fixed_dictionaries(
    {"id": st.sampled_from(IDS), "type": st.sampled_from(TYPES),
     "title": st.one_of(words.filter(str.strip), st.sampled_from(["Gent en VEKA", "Warmte"]))},
    optional={
        "text": words,
        "themes": st.lists(st.sampled_from(["renovatie", "warmte", "klimaat", "", "WARMTE"]),
                           max_size=3),
        "municipality": names,
        "neighbourhood": st.sampled_from(IDS),
        "actors": st.lists(st.sampled_from(IDS), max_size=3),
        "thresholds": st.lists(st.sampled_from(IDS), max_size=3),
        "measures": st.lists(st.sampled_from(IDS), max_size=2),
        "related": st.lists(st.sampled_from(IDS), max_size=2),
        "source": st.sampled_from(IDS),
        "date": st.one_of(st.dates().map(str), words),
        "alt_labels": st.lists(names, max_size=3),
        "subtype": st.sampled_from(["financieel", "juridisch", "vlaamse-overheid", "x"]),
        "url": st.sampled_from(["https://example.org/a", "http://x", "ftp://x", "https://a b"]),
        "pioneer": st.sampled_from([True, False, "ja", "misschien"]),
    },
)


clean = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"),
                                      exclude_characters="\ufffe\uffff"), max_size=80)
# Records that pass the validator and resolution, so odd text reaches linking, mapping and SHACL.
valid_records = st.fixed_dictionaries(
    {"type": st.sampled_from(["actor", "lesson", "threshold", "measure"]),
     "title": st.builds(lambda t: f"T{t}", clean)},
    optional={"text": clean, "alt_labels": st.lists(clean, max_size=3),
              "themes": st.lists(st.sampled_from(["renovatie", "warmte"]), max_size=2),
              "municipality": st.sampled_from(["Gent", "44021", "Sint-Niklaas"])},
)


@pytest.fixture(scope="module")
def store(initialised: Path) -> Iterator[tuple[KnowledgeBase, Path]]:
    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(initialised, Path(folder) / "data")
        kb = KnowledgeBase(data_dir=Path(folder) / "data")
        try:
            yield kb, Path(folder)
        finally:
            kb.close()


FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@FUZZ
@given(batch=st.lists(records, min_size=1, max_size=6))
def test_dry_run_ingest_reports_or_refuses(store: tuple[KnowledgeBase, Path],
                                           batch: list[dict[str, Any]]) -> None:
    dry_run(store, batch)


@FUZZ
@given(batch=st.lists(valid_records, min_size=1, max_size=6))
def test_dry_run_of_valid_records_with_odd_text(store: tuple[KnowledgeBase, Path],
                                                batch: list[dict[str, Any]]) -> None:
    dry_run(store, [{"id": f"r-{n}", **r} for n, r in enumerate(batch)])


def dry_run(store: tuple[KnowledgeBase, Path], batch: list[dict[str, Any]]) -> None:
    kb, folder = store
    before = kb.export("nq"), kb.store.generation
    f = folder / "fuzz.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in batch), encoding="utf-8")
    try:
        report = kb.ingest([f], dry_run=True, sync_index=False)
    except IngestError as exc:
        assert exc.problems
        event("refused")
    else:
        assert report.dry_run and len(report.files) == 1
        event("accepted: went through linking, mapping and SHACL")
    assert (kb.export("nq"), kb.store.generation) == before
