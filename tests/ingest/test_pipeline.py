"""The ingest pipeline on a real on-disk store: named graphs, provenance, re-ingest, refusal."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import openpyxl
import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD

from api.knowledgebase import KnowledgeBase
from ingest.pipeline import graph_iri
from kg.errors import IngestError
from ontology.namespaces import ADMS, DEFAULT_BASE_IRI, WK, concept_iri, municipality_iri

BASE = DEFAULT_BASE_IRI
THRESHOLD = {"id": "drempel-kosten", "type": "threshold", "title": "De kosten zijn te hoog",
             "themes": ["renovatie", "financiering"], "subtype": "financieel"}
ACTOR = {"id": "veka", "type": "actor", "title": "Vlaams Energie- en Klimaatagentschap",
         "alt_labels": ["VEKA"], "subtype": "vlaamse-overheid"}
LESSON = {"id": "les-een", "type": "lesson", "title": "Een renovatieles",
          "text": "Samen renoveren werkt.", "themes": ["renovatie"], "municipality": "Gent",
          "thresholds": ["drempel-kosten"], "actors": ["veka"], "date": "2024-03-01"}
BREAKTHROUGH = {"id": "doorbraak-een", "type": "breakthrough", "title": "Een doorbraak",
                "themes": ["renovatie"], "thresholds": ["drempel-kosten"]}


def write_jsonl(path: Path, *records: dict) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


def iri(rtype: str, rid: str) -> URIRef:
    return URIRef(f"{BASE}{rtype}/{rid}")


def nq(kb: KnowledgeBase) -> bytes:
    return kb.export("nq")


def snapshot(kb: KnowledgeBase) -> tuple[bytes, int]:
    return nq(kb), kb.store.generation


def ingest(kb: KnowledgeBase, *paths: Path, **kwargs: object):
    return kb.ingest(list(paths), sync_index=False, **kwargs)


def problems_of(exc: pytest.ExceptionInfo[IngestError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


# -- a valid ingest ------------------------------------------------------------------------

def test_records_become_triples_in_their_own_named_graph(kb: KnowledgeBase,
                                                         tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "records.jsonl", THRESHOLD, ACTOR, LESSON, BREAKTHROUGH)
    report = ingest(kb, f)
    (fr,) = report.files
    assert (fr.status, fr.records, fr.added) == (
        "new", 4, ["doorbraak-een", "drempel-kosten", "les-een", "veka"])
    assert report.changed and not report.dry_run
    giri = graph_iri(BASE, f)
    assert fr.graph == giri
    g = kb.store.graph(giri)
    les, drempel = iri("lesson", "les-een"), iri("threshold", "drempel-kosten")
    assert (les, RDF.type, WK.Lesson) in g
    assert (les, DCTERMS.identifier, Literal("les-een")) in g
    assert (les, RDFS.label, Literal("Een renovatieles", lang="nl")) in g
    assert (les, DCTERMS.description, Literal("Samen renoveren werkt.", lang="nl")) in g
    assert (les, WK.addresses, drempel) in g
    assert (les, WK.involves, iri("actor", "veka")) in g
    assert (les, DCTERMS.subject, URIRef(concept_iri("thema", "renovatie"))) in g
    assert (les, WK.municipality, URIRef(municipality_iri("44021"))) in g
    assert (les, DCTERMS.date, Literal("2024-03-01", datatype=XSD.date)) in g
    assert (iri("breakthrough", "doorbraak-een"), WK.overcomes, drempel) in g
    assert (iri("breakthrough", "doorbraak-een"), WK.addresses, drempel) not in g
    assert (iri("actor", "veka"), SKOS.altLabel, Literal("VEKA", lang="nl")) in g
    assert (drempel, DCTERMS.type, URIRef(concept_iri("drempeltype", "financieel"))) in g


def test_source_graph_carries_prov_metadata(kb: KnowledgeBase, tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "records.jsonl", THRESHOLD, ACTOR)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ingest(kb, f)
    giri = URIRef(graph_iri(BASE, f))
    g = kb.store.graph(str(giri))
    assert {PROV.Entity, WK.SourceGraph} <= set(g.objects(giri, RDF.type))
    digest = "sha256:" + hashlib.sha256(f.read_bytes()).hexdigest()
    assert str(g.value(giri, WK.contentHash)) == digest
    count = g.value(giri, WK.recordCount)
    assert count.datatype == XSD.integer and int(count) == 2
    at = g.value(giri, PROV.generatedAtTime)
    assert at.datatype == XSD.dateTime
    assert before <= dt.datetime.fromisoformat(str(at)) <= dt.datetime.now(dt.UTC)
    assert g.value(giri, PROV.wasDerivedFrom) == URIRef(f.resolve().as_uri())
    assert str(g.value(giri, WK.sourceFile)) == str(f.resolve())
    # the provenance sits in the graph it describes, and nowhere else
    rows = kb.store.select(f"SELECT ?g WHERE {{ GRAPH ?g {{ <{giri}> <{WK.contentHash}> ?h }} }}")
    assert [str(r["g"]) for r in rows] == [str(giri)]


def test_one_graph_per_file_and_the_default_graph_is_the_union(kb: KnowledgeBase,
                                                                tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", THRESHOLD)
    b = write_jsonl(tmp_path / "b.jsonl", LESSON | {"actors": []})
    ingest(kb, a, b)
    ga, gb = graph_iri(BASE, a), graph_iri(BASE, b)
    assert ga != gb
    assert {ga, gb} <= set(kb.store.named_graphs())
    rows = kb.store.select(f"""SELECT ?title WHERE {{
        <{iri("lesson", "les-een")}> <{WK.addresses}> ?d . ?d <{RDFS.label}> ?title }}""")
    assert [str(r["title"]) for r in rows] == ["De kosten zijn te hoog"]
    assert len(kb.store.graph(ga)) + len(kb.store.graph(gb)) < len(kb.store)


def test_graph_iri_is_stable_per_path(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    one = graph_iri(BASE, tmp_path / "Lessen A.jsonl")
    assert one == graph_iri(BASE, tmp_path / "x" / ".." / "Lessen A.jsonl")
    assert one.startswith(BASE + "graph/lessen-a-")
    assert one != graph_iri(BASE, tmp_path / "x" / "Lessen A.jsonl")


# -- re-ingest -----------------------------------------------------------------------------

def test_unchanged_file_changes_nothing(kb: KnowledgeBase, tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "records.jsonl", THRESHOLD, ACTOR, LESSON)
    ingest(kb, f)
    before = snapshot(kb)
    report = ingest(kb, f)
    assert [(r.status, r.records) for r in report.files] == [("unchanged", 3)]
    assert not report.changed
    assert snapshot(kb) == before


def test_force_rewrites_an_unchanged_file(kb: KnowledgeBase, tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "records.jsonl", THRESHOLD, ACTOR)
    ingest(kb, f)
    generation = kb.store.generation
    report = ingest(kb, f, force=True)
    assert [(r.status, r.updated, r.added) for r in report.files] == [
        ("changed", ["drempel-kosten", "veka"], [])]
    assert kb.store.generation == generation + 1


def test_removed_record_disappears_with_its_triples(kb: KnowledgeBase, tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "records.jsonl", THRESHOLD, ACTOR, LESSON)
    ingest(kb, f)
    write_jsonl(f, THRESHOLD, LESSON | {"actors": [], "title": "Nieuwe titel"})
    report = ingest(kb, f)
    (fr,) = report.files
    assert (fr.status, fr.added, fr.updated, fr.removed) == (
        "changed", [], ["drempel-kosten", "les-een"], ["veka"])
    veka = iri("actor", "veka")
    assert kb.store.select(f"SELECT * WHERE {{ {{ <{veka}> ?p ?o }} UNION "
                           f"{{ ?s ?p <{veka}> }} }}") == []
    assert kb.item("les-een").title == "Nieuwe titel"
    rows = kb.store.select(f"SELECT ?t WHERE {{ <{iri('lesson', 'les-een')}> <{RDFS.label}> ?t }}")
    assert len(rows) == 1  # the old title is gone, not kept beside the new one
    giri = graph_iri(BASE, f)
    assert int(kb.store.graph(giri).value(URIRef(giri), WK.recordCount)) == 2


def test_removal_of_a_record_another_file_points_at_is_refused(kb: KnowledgeBase,
                                                               tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", THRESHOLD, ACTOR)
    b = write_jsonl(tmp_path / "b.jsonl", LESSON)
    ingest(kb, a, b)
    before = snapshot(kb)
    write_jsonl(a, ACTOR)
    with pytest.raises(IngestError) as exc:
        ingest(kb, a)
    assert problems_of(exc) == [
        f"{a.resolve()}: id: record 'drempel-kosten' is no longer in this file, but 'les-een' "
        f"in {b.resolve()} still points at it"]
    assert snapshot(kb) == before
    # removing the referrer in the same run is fine
    write_jsonl(b, LESSON | {"thresholds": []})
    report = ingest(kb, a, b)
    assert report.ids("removed") == ["drempel-kosten"]


def test_type_change_of_a_referenced_record_is_refused(kb: KnowledgeBase,
                                                       tmp_path: Path) -> None:
    """A record whose type changes gets a new IRI, so links from other files would dangle.

    Bug: the pipeline only checks referrers for ids that vanish from a file, not for ids whose
    type (and so IRI) changes; the lesson in b.jsonl is left pointing at a threshold IRI that
    no longer exists.
    """
    a = write_jsonl(tmp_path / "a.jsonl", THRESHOLD | {"subtype": None}, ACTOR)
    b = write_jsonl(tmp_path / "b.jsonl", LESSON)
    ingest(kb, a, b)
    write_jsonl(a, THRESHOLD | {"type": "measure", "subtype": None}, ACTOR)
    with pytest.raises(IngestError) as exc:
        ingest(kb, a)
    assert "les-een" in str(exc.value)


def test_removed_actor_leaves_no_dangling_mentions(kb: KnowledgeBase, tmp_path: Path) -> None:
    """Bug: removing a record only checks curated referrers (`queries.referrers` filters out
    wk:mentions), so a text in another file keeps `wk:mentions` of an IRI that no longer
    exists; `KnowledgeBase.item` then shows a link without type or title. The run should also
    drop (or recompute) the mentions of removed records in the other graphs, in the same write.
    """
    a = write_jsonl(tmp_path / "a.jsonl", ACTOR)
    b = write_jsonl(tmp_path / "b.jsonl", {"id": "les-x", "type": "lesson", "title": "Les",
                                           "text": "VEKA gaf advies."})
    ingest(kb, a, b)
    assert [r.id for r in kb.item("les-x").linked("mentions")] == ["veka"]
    write_jsonl(a, THRESHOLD)
    assert ingest(kb, a).ids("removed") == ["veka"]
    veka = iri("actor", "veka")
    assert kb.store.select(f"SELECT ?s WHERE {{ ?s ?p <{veka}> }}") == []


def test_id_owned_by_another_file_is_refused(kb: KnowledgeBase, tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", THRESHOLD)
    ingest(kb, a)
    b = write_jsonl(tmp_path / "b.jsonl", ACTOR, THRESHOLD | {"title": "Kopie"})
    with pytest.raises(IngestError) as exc:
        ingest(kb, b)
    assert problems_of(exc) == [
        f"{b.resolve()}:2: id: id 'drempel-kosten' already exists in the store, from "
        f"{a.resolve()}"]


def test_a_record_may_move_between_files_in_one_run(kb: KnowledgeBase, tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", THRESHOLD, ACTOR)
    b = write_jsonl(tmp_path / "b.jsonl", LESSON)
    ingest(kb, a, b)
    write_jsonl(a, THRESHOLD)
    write_jsonl(b, ACTOR, LESSON)
    ingest(kb, a, b)
    assert kb.item("veka").graph == graph_iri(BASE, b)


# -- invalid input -------------------------------------------------------------------------

def test_every_problem_of_a_run_is_named_and_nothing_is_written(kb: KnowledgeBase,
                                                                tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", THRESHOLD, ACTOR)
    ingest(kb, good)
    before = snapshot(kb)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([
        json.dumps({"id": "les-a", "type": "lesson", "themes": ["renovatie"]}),
        json.dumps({"id": "les-b", "type": "lesson", "title": "B", "themes": ["klimaat"]}),
        json.dumps({"id": "les-c", "type": "lesson", "title": "C",
                    "thresholds": ["drempel-bestaat-niet"]}),
        '{"id": "les-d", "type": "lesson", "title": ',
        json.dumps({"id": "les-e", "type": "lesson", "title": "E", "municipality": "Gendt"}),
        json.dumps({"id": "les-f", "type": "lesson", "title": "F",
                    "thresholds": ["drempel-kosten"]}),
    ]) + "\n", encoding="utf-8")
    changed = write_jsonl(tmp_path / "good.jsonl", THRESHOLD, ACTOR | {"title": "Ander"})
    with pytest.raises(IngestError) as exc:
        ingest(kb, changed, bad)
    got = problems_of(exc)
    name = str(bad.resolve())
    assert len(got) == 5, got
    assert got[0] == f"{name}:1: title: is required"
    assert got[1].startswith(f"{name}:2: themes: unknown theme 'klimaat'; known themes: ")
    assert "renovatie" in got[1] and "water" in got[1]
    assert got[2].startswith(f"{name}:3: thresholds: unknown id 'drempel-bestaat-niet'")
    assert got[3].startswith(f"{name}:4: malformed JSON")
    assert got[4].startswith(f"{name}:5: municipality: unknown Flemish municipality 'Gendt'; "
                             "did you mean: Gent")
    assert str(exc.value).startswith("5 problems found; nothing was written:")
    assert snapshot(kb) == before  # the valid, changed good.jsonl was not written either


def test_problems_in_csv_and_xlsx_name_the_row(kb: KnowledgeBase, tmp_path: Path) -> None:
    csv_file = tmp_path / "drempels.csv"
    csv_file.write_text("id,type,title,themes\n"
                        "d-1,threshold,Een,renovatie\n"
                        "d-2,threshold,,renovatie\n"
                        "d-3,threshold,Drie,klimaat\n", encoding="utf-8")
    xlsx_file = tmp_path / "maatregelen.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "maatregelen"
    for row in (["id", "type", "title", "thresholds"], ["m-1", "measure", "Een", "d-1"],
                ["m-2", "measure", "Twee", "d-9"]):
        ws.append(row)
    wb.save(xlsx_file)
    before = snapshot(kb)
    with pytest.raises(IngestError) as exc:
        ingest(kb, csv_file, xlsx_file)
    got = problems_of(exc)
    assert [g.split(": ")[0:2] for g in got] == [
        [f"{csv_file.resolve()}:3", "title"], [f"{csv_file.resolve()}:4", "themes"],
        [f"{xlsx_file.resolve()}:3", "thresholds"]]
    assert snapshot(kb) == before


def test_url_that_rdf_cannot_hold_is_a_problem_not_a_crash(kb: KnowledgeBase,
                                                          tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "a.jsonl", ACTOR | {"url": "https://example.org/a>b"})
    before = snapshot(kb)
    with pytest.raises(IngestError) as exc:
        ingest(kb, f)
    assert [p.field for p in exc.value.problems] == ["url"]
    assert snapshot(kb) == before


def test_missing_and_unsupported_paths(kb: KnowledgeBase, tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("x")
    with pytest.raises(IngestError) as exc:
        ingest(kb, tmp_path / "nergens.jsonl", other)
    got = problems_of(exc)
    assert len(got) == 2
    assert got[0] == f"{tmp_path / 'nergens.jsonl'}: no such file or directory"
    assert got[1].startswith(f"{other}: unsupported file type; use one of ")
    assert ".jsonl" in got[1] and ".xlsx" in got[1] and ".ttl" in got[1]


# -- dry run -------------------------------------------------------------------------------

def test_dry_run_validates_only(kb: KnowledgeBase, tmp_path: Path) -> None:
    before = snapshot(kb)
    f = write_jsonl(tmp_path / "records.jsonl", THRESHOLD, ACTOR, LESSON)
    report = ingest(kb, f, dry_run=True)
    assert report.dry_run and report.changed
    assert [(r.status, r.added) for r in report.files] == [
        ("new", ["drempel-kosten", "les-een", "veka"])]
    assert snapshot(kb) == before
    write_jsonl(f, LESSON)
    with pytest.raises(IngestError):
        ingest(kb, f, dry_run=True)
    assert snapshot(kb) == before


# -- formats and directories ---------------------------------------------------------------

def _corpus(root: Path) -> None:
    root.mkdir()
    (root / "README.md").write_text("# Lees mij\n\nGeen records hier.\n", encoding="utf-8")
    (root / ".verborgen").mkdir()
    write_jsonl(root / ".verborgen" / "x.jsonl", {"id": "kapot"})
    (root / "notities.txt").write_text("geen data")
    write_jsonl(root / "drempels.jsonl", THRESHOLD)
    (root / "actoren.csv").write_bytes(
        "id;type;title;alt_labels;municipality;url\r\n"
        "veka;actor;Vlaams Energie- en Klimaatagentschap;VEKA|Energieagentschap;;"
        "https://www.vlaanderen.be/veka\r\n"
        "stad-gent;actor;Stad Gent;;Gent;\r\n".encode("utf-8-sig"))
    (root / "doorbraken.csv").write_text(
        "id,type,title,themes,thresholds,actors\n"
        'doorbraak-een,breakthrough,"Een doorbraak, eindelijk",renovatie|water,drempel-kosten,'
        "veka|stad-gent\n", encoding="utf-8")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "maatregelen"
    ws.append(["id", "type", "title", "subtype", "thresholds", "date"])
    ws.append(["maatregel-een", "measure", "Een maatregel", "financiering", "drempel-kosten",
               "2024-05-01"])
    ws.append(["maatregel-twee", "measure", "Twee", None, "drempel-kosten",
               dt.datetime(2024, 6, 2)])
    wb.save(root / "maatregelen.xlsx")
    (root / "wijken").mkdir()
    (root / "wijken" / "wijk-een.md").write_text(
        "---\nid: wijk-een\ntype: neighbourhood\ntitle: Wijk Een (Gent)\nmunicipality: Gent\n"
        "pioneer: true\nthemes:\n  - warmte\n---\n\n# Wijk Een\n\nEen wijk in Gent.\n",
        encoding="utf-8")


def test_a_record_status_becomes_adms_status_and_shows_on_the_item(kb: KnowledgeBase,
                                                                  tmp_path: Path) -> None:
    ingest(kb, write_jsonl(tmp_path / "a.jsonl", THRESHOLD | {"status": "voorbeeld"}))
    status = URIRef(concept_iri("recordstatus", "voorbeeld"))
    assert (iri("threshold", "drempel-kosten"), ADMS.status, status) in kb.store.graph(
        kb.item("drempel-kosten").graph)
    shown = kb.item("drempel-kosten").status
    assert shown is not None and shown.iri == str(status)
    assert (shown.id, shown.title, shown.note) == ("voorbeeld", "voorbeeld",
                                                   "illustratieve gegevens")


def test_an_unknown_status_names_the_file_row_and_field(kb: KnowledgeBase,
                                                        tmp_path: Path) -> None:
    csv_file = tmp_path / "drempels.csv"
    csv_file.write_text("id,type,title,themes,status\n"
                        "d-1,threshold,Een,renovatie,voorbeeld\n"
                        "d-2,threshold,Twee,renovatie,concept\n", encoding="utf-8")
    before = snapshot(kb)
    with pytest.raises(IngestError) as exc:
        ingest(kb, csv_file)
    assert problems_of(exc) == [
        f"{csv_file.resolve()}:3: status: unknown recordstatus 'concept'; known: afgewezen, "
        "gevalideerd, ingediend, voorbeeld"]
    assert snapshot(kb) == before


def test_a_directory_of_every_format_is_walked(kb: KnowledgeBase, tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    _corpus(root)
    report = ingest(kb, root)
    names = sorted(Path(f.path).name for f in report.files)
    assert names == ["actoren.csv", "doorbraken.csv", "drempels.jsonl", "maatregelen.xlsx",
                     "wijk-een.md"]
    assert len(queries_source_files(kb)) == 5
    veka = kb.item("veka")
    assert veka.alt_labels == ["Energieagentschap", "VEKA"]
    rows = kb.store.select(f"SELECT ?u WHERE {{ <{veka.iri}> <https://schema.org/url> ?u }}")
    assert rows == [{"u": URIRef("https://www.vlaanderen.be/veka")}]
    doorbraak = kb.item("doorbraak-een")
    assert doorbraak.title == "Een doorbraak, eindelijk"
    assert sorted(r.id for r in doorbraak.linked("involves")) == ["stad-gent", "veka"]
    assert sorted(r.title for r in doorbraak.linked("theme")) == ["renovatie", "water"]
    assert [r.id for r in doorbraak.linked("overcomes")] == ["drempel-kosten"]
    assert kb.item("maatregel-een").date == "2024-05-01"
    assert kb.item("maatregel-twee").date == "2024-06-02"
    wijk = kb.item("wijk-een")
    assert wijk.text == "# Wijk Een\n\nEen wijk in Gent."
    assert [r.title for r in wijk.linked("municipality")] == ["Gent"]
    assert (iri("neighbourhood", "wijk-een"), WK.pioneer, Literal(True)) in kb.store.graph(
        wijk.graph)
    assert kb.item("stad-gent").linked("municipality")[0].iri == municipality_iri("44021")


def queries_source_files(kb: KnowledgeBase) -> list[str]:
    from kg.catalogue import source_graphs

    return [g.source_file for g in source_graphs(kb.store)]


def test_same_record_from_each_format_gives_the_same_triples(kb: KnowledgeBase,
                                                             tmp_path: Path) -> None:
    """JSONL, CSV (`,` and `;` with BOM+CRLF), XLSX and Markdown map to identical RDF."""
    fields = {"type": "threshold", "title": "Een drempel", "text": "Lange tekst.",
              "themes": "renovatie|water", "municipality": "Leuven", "date": "2024-02-03",
              "subtype": "juridisch", "alt_labels": "D1|Drempel één", "status": "ingediend"}

    def rec(rid: str) -> dict:
        return {"id": rid} | fields

    write_jsonl(tmp_path / "a.jsonl", rec("d-jsonl") | {
        "themes": ["renovatie", "water"], "alt_labels": ["D1", "Drempel één"]})
    header = list(rec("x"))
    (tmp_path / "b.csv").write_text(
        ",".join(header) + "\n" + ",".join(str(v) for v in rec("d-csv").values()) + "\n",
        encoding="utf-8")
    (tmp_path / "c.csv").write_bytes(
        (";".join(header) + "\r\n" + ";".join(str(v) for v in rec("d-semi").values())
         + "\r\n").encode("utf-8-sig"))
    wb = openpyxl.Workbook()
    wb.active.append(header)
    wb.active.append(list(rec("d-xlsx").values()))
    wb.save(tmp_path / "d.xlsx")
    (tmp_path / "e.md").write_text(
        "---\nid: d-md\ntype: threshold\ntitle: Een drempel\nthemes: [renovatie, water]\n"
        "municipality: Leuven\ndate: 2024-02-03\nsubtype: juridisch\n"
        "alt_labels: [D1, Drempel één]\nstatus: ingediend\n---\nLange tekst.\n",
        encoding="utf-8")
    report = ingest(kb, tmp_path)
    assert sorted(f.records for f in report.files) == [1, 1, 1, 1, 1]

    def shape(rid: str) -> set[tuple[str, str]]:
        rows = kb.store.select(f"SELECT ?p ?o WHERE {{ <{iri('threshold', rid)}> ?p ?o }}")
        return {(str(r["p"]), str(r["o"]).replace(rid, "ID")) for r in rows}

    expected = shape("d-jsonl")
    assert len(expected) == 12
    for rid in ("d-csv", "d-semi", "d-xlsx", "d-md"):
        assert shape(rid) == expected, rid
