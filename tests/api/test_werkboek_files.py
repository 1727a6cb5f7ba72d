"""The dynamisch werkboek as files: PDF (Typst; its table of contents checked against the pages
the titles are on), DOCX (python-docx), Markdown and one HTML document; record texts that look
like markup stay text; the `wijken werkboek` command as a user runs it; the HTTP downloads."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from api.knowledgebase import KnowledgeBase
from api.werkboek.render import render, text_blocks
from kg.werkboek import Werkboek, WerkboekScope
from tests.api.conftest import assert_error
from tests.api.test_cli import wijken, write_jsonl

NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def book(sample_data_dir: Path) -> Iterator[Werkboek]:
    kb = KnowledgeBase(data_dir=sample_data_dir, read_only=True)
    try:
        yield kb.werkboek()
    finally:
        kb.close()


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def pdf_pages(book: Werkboek) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(render(book, "pdf", generated=NOW)))
    assert reader.metadata is not None and reader.metadata.title == book.title
    assert reader.outline, "headings become PDF bookmarks"
    return [squash(p.extract_text()) for p in reader.pages]


def test_pdf_has_a_title_page_a_table_of_contents_and_numbered_pages(
        book: Werkboek, pdf_pages: list[str]) -> None:
    assert len(pdf_pages) >= 20
    assert book.title.split()[0] in pdf_pages[0] and "4 december 2026" in pdf_pages[0]
    toc = " ".join(p for p in pdf_pages[1:6] if "Inhoud" in p or ". . ." in p)
    assert "Inhoud" in toc
    checked = 0
    for d in book.drempels[:: max(1, len(book.drempels) // 12)]:
        # "<title> . . . . <page>" in the table of contents; the title is on that page.
        title = squash(d.title)
        match = re.search(re.escape(title[:40]) + r".*?(?:\. )+\s*(\d+)", toc)
        assert match, f"{d.id} not in the table of contents"
        page = int(match.group(1))
        body = pdf_pages[page:]  # page numbers start at 1 on the page after the title page
        assert title[:40] in body[0], (d.id, page)
        checked += 1
    assert checked >= 10
    # The footer numbers the pages.
    assert re.search(r"\b7$", pdf_pages[7]) or " 7" in pdf_pages[7]


def test_pdf_lists_the_open_drempels_and_the_registers(book: Werkboek,
                                                       pdf_pages: list[str]) -> None:
    text = " ".join(pdf_pages)
    assert "Wat nog openligt" in text and "Registers" in text
    for r in book.open_drempels:
        assert squash(r.title)[:30] in text
    assert "Nieuw sinds de vorige editie" in text


def test_docx_has_headings_a_toc_field_and_page_numbers(book: Werkboek) -> None:
    from docx import Document

    data = render(book, "docx", generated=NOW)
    doc = Document(io.BytesIO(data))
    headings = {p.text for p in doc.paragraphs if p.style is not None
                and p.style.name.startswith("Heading")}
    assert {d.title for d in book.drempels} <= headings
    assert {p.label for p in book.parts} <= headings
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        body = z.read("word/document.xml").decode()
        footers = " ".join(z.read(n).decode() for n in z.namelist() if "footer" in n)
    assert "TOC \\o" in body and "PAGE" in footers
    assert doc.core_properties.title == book.title


def test_markdown_links_resolve_within_the_document(book: Werkboek) -> None:
    md = render(book, "md", generated=NOW).decode()
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', md))
    targets = set(re.findall(r"\]\(#([^)]+)\)", md))
    assert targets and targets <= anchors
    assert all(f"#### {d.title}" in md for d in book.drempels)


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "a" and a.get("href"):
            self.hrefs.append(str(a["href"]))


def test_html_document_stands_alone(book: Werkboek) -> None:
    html = render(book, "html", generated=NOW).decode()
    assert html.startswith("<!doctype html>") and "<style>" in html
    parser = Links()
    parser.feed(html)
    local = [h[1:] for h in parser.hrefs if h.startswith("#")]
    assert local and set(local) <= parser.ids
    # Away from the site, records link to their IRIs, never to the site's relative paths.
    assert not [h for h in parser.hrefs if h.startswith("/")]
    assert any(h.startswith("https://w3id.org/100wijken/id/") for h in parser.hrefs)


def test_record_texts_that_look_like_markup_stay_text(tmp_path: Path) -> None:
    from docx import Document
    from pypdf import PdfReader

    hostile = ('#set page(width: 1cm) #let x = 1 ] [ $math$ <label> @ref '
               '{{ jinja }} <script>alert(1)</script>')
    kb = KnowledgeBase(data_dir=tmp_path / "data")
    try:
        kb.ingest([write_jsonl(tmp_path / "r.jsonl", [
            {"id": "drempel-markup", "type": "threshold", "title": "Titel #strong[x] ]",
             "text": hostile + "\n\n- een punt\n> een citaat", "themes": ["renovatie"]}])],
                  sync_index=False)
        book = kb.werkboek()
    finally:
        kb.close()
    pdf = " ".join(squash(p.extract_text()) for p in
                   PdfReader(io.BytesIO(render(book, "pdf", generated=NOW))).pages)
    assert "#set page(width: 1cm) #let x = 1 ] [ $math$ <label> @ref" in pdf
    assert "Titel #strong[x] ]" in pdf
    html = render(book, "html", generated=NOW).decode()
    assert "<script>alert(1)</script>" not in html and "{{ jinja }}" in html
    doc = Document(io.BytesIO(render(book, "docx", generated=NOW)))
    assert any(hostile in p.text for p in doc.paragraphs)
    assert any(p.text == "een punt" and p.style is not None and "List" in p.style.name
               for p in doc.paragraphs)


def test_text_blocks() -> None:
    assert text_blocks("Een **vette** zin\nloopt door.\n\n- a\n- b\n> citaat\n> verder") == [
        {"kind": "p", "text": "Een vette zin loopt door."}, {"kind": "li", "text": "a"},
        {"kind": "li", "text": "b"}, {"kind": "quote", "text": "citaat verder"}]
    assert text_blocks("## Zo begin je\n1. kaart\n2) overleg\n#geen kop") == [
        {"kind": "h", "text": "Zo begin je"}, {"kind": "ol", "n": "1", "text": "kaart"},
        {"kind": "ol", "n": "2", "text": "overleg"}, {"kind": "p", "text": "#geen kop"}]


# -- the command -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def copy(sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("werkboek") / "data"
    shutil.copytree(sample_data_dir, target)
    return target


def test_command_writes_a_pdf_and_partial_werkboeken(copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "werkboek.pdf"
    run = wijken("werkboek", "--data-dir", copy, "--format", "pdf", "-o", out)
    assert run.code == 0, run.err
    assert out.read_bytes().startswith(b"%PDF") and "drempels" in run.out
    md = wijken("werkboek", "--data-dir", copy, "--format", "md", "--werf", "werf-3", "-o", "-")
    assert md.code == 0, md.err
    assert md.out.startswith("# Dynamisch werkboek") and "Deelwerkboek: werf-3" in md.out
    assert "## Werf 2" not in md.out
    docx = tmp_path / "gent.docx"
    run = wijken("werkboek", "--data-dir", copy, "--format", "docx", "--municipality", "Gent",
                 "-o", docx)
    assert run.code == 0 and zipfile.is_zipfile(docx)
    editions = wijken("werkboek", "--data-dir", copy, "--editions")
    assert editions.code == 0 and re.search(r"editie\s+1\b", editions.out)


@pytest.mark.parametrize(("args", "named"), [
    (("--werf", "werf-9"), "werf-9"), (("--theme", "geen"), "geen"),
    (("--municipality", "Atlantis"), "Atlantis"), (("--format", "odt"), "odt")])
def test_command_refuses_an_unknown_scope_or_format(copy: Path, tmp_path: Path,
                                                    args: tuple[str, ...], named: str) -> None:
    out = tmp_path / "x"
    run = wijken("werkboek", "--data-dir", copy, *args, "-o", out)
    assert run.code == 2 and named in run.err and "Traceback" not in run.err
    assert not out.exists()


# -- over HTTP -------------------------------------------------------------------------------

def test_downloads_over_http(sample_client: httpx.Client) -> None:
    r = sample_client.get("/werkboek.pdf", params={"werf": "werf-4"})
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert r.headers["content-type"] == "application/pdf"
    assert 'filename="werkboek-werf-4.pdf"' in r.headers["content-disposition"]
    r = sample_client.get("/werkboek.md")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/markdown")
    assert sample_client.get("/werkboek.odt").status_code in (404, 422)


def test_json_and_errors_over_http(sample_client: httpx.Client) -> None:
    body = sample_client.get("/api/werkboek", params={"theme": "water"}).json()
    assert body["scope"] == {"theme": "water"} or body["scope"]["theme"]
    drempels = [d for p in body["parts"] for t in p["themes"] for d in t["drempels"]]
    assert drempels and all(t["notation"] == "water" for p in body["parts"] for t in p["themes"])
    assert_error(sample_client.get("/api/werkboek", params={"werf": "werf-9"}), 400)
    assert_error(sample_client.get("/api/werkboek", params={"municipality": "x" * 200}), 422)
    editions = sample_client.get("/api/werkboek/editions").json()
    assert editions and editions[0]["number"] == 1


def test_scope_is_the_facade_scope(book: Werkboek, sample_data_dir: Path) -> None:
    kb = KnowledgeBase(data_dir=sample_data_dir, read_only=True)
    try:
        part = kb.werkboek(WerkboekScope(theme="water"))
    finally:
        kb.close()
    assert {d.id for d in part.drempels} < {d.id for d in book.drempels}
