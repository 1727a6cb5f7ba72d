"""The werkboek (`kg.werkboek.Werkboek`) in each output format: HTML (a whole document with
its own CSS, the site's `/werkboek` page uses the same body template), Markdown, DOCX
(python-docx, for municipal staff to edit) and PDF (Typst: a table of contents, page numbers
and page references in the registers).

Record texts are plain text or Markdown. For PDF and DOCX they are split into blocks
(paragraphs, list items, quotes, headings) and inserted as text, never as markup: Typst reads
the book as JSON data (`sys.inputs`), so no record can inject Typst code.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

from api.security import safe_href
from api.web.templating import STATIC_DIR, templates
from kg.errors import UserError
from kg.werkboek import DrempelSection, Entry, Werkboek

__all__ = ["FORMAT_MEDIA_TYPES", "dutch_date", "render", "text_blocks"]

TYPST_TEMPLATE = Path(__file__).with_name("werkboek.typ")
FORMAT_MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")
TYPE_LABELS = {"lesson": "les", "threshold": "drempel", "measure": "maatregel",
               "breakthrough": "doorbraak", "document": "brondocument", "actor": "actor",
               "neighbourhood": "wijk", "activity": "activiteit"}
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")


def dutch_date(value: str | None) -> str:
    """`2026-12-04` (or an ISO date-time) as `4 december 2026`; other text as it is."""
    if not value:
        return ""
    try:
        d = dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def text_blocks(text: str) -> list[dict[str, str]]:
    """A record text as blocks: `p` (paragraph), `li` (bullet), `ol` (numbered item, its
    number in `n`), `quote`, `h` (heading)."""
    blocks: list[dict[str, str]] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append({"kind": "p", "text": " ".join(para)})
            para.clear()

    for raw in text.splitlines():
        line = _EMPHASIS.sub(r"\2", raw.strip())
        if not line:
            flush()
        elif numbered := re.match(r"^(\d+)[.)]\s+", line):
            flush()
            blocks.append({"kind": "ol", "n": numbered.group(1), "text": line[numbered.end():]})
        elif re.match(r"^[-*+]\s+", line):
            flush()
            blocks.append({"kind": "li", "text": re.sub(r"^[-*+]\s+", "", line)})
        elif line.startswith(">"):
            flush()
            quote = line.lstrip("> ").strip()
            if blocks and blocks[-1]["kind"] == "quote" and quote:
                blocks[-1]["text"] += " " + quote
            elif quote:
                blocks.append({"kind": "quote", "text": quote})
        elif re.match(r"^#{1,6}\s", line):
            flush()
            blocks.append({"kind": "h", "text": line.lstrip("#").strip()})
        else:
            para.append(line)
    flush()
    return blocks


def render(book: Werkboek, fmt: str, *, generated: dt.datetime | None = None) -> bytes:
    """The werkboek as `fmt` (html, md, docx or pdf)."""
    generated = generated or dt.datetime.now(dt.UTC)
    if fmt == "md":
        return to_markdown(book, generated).encode()
    if fmt == "html":
        return to_html(book, generated).encode()
    if fmt == "docx":
        return to_docx(book, generated)
    if fmt == "pdf":
        return to_pdf(book, generated)
    raise UserError(f"format {fmt!r} is not a werkboek format; use one of "
                    f"{', '.join(FORMAT_MEDIA_TYPES)}")


def edition_line(book: Werkboek) -> str:
    """`Editie 3 — 4 december 2026`, or what the book is when it is not an edition."""
    e = book.edition
    if e is None:
        return "Werkversie (nog geen uitgegeven editie)"
    if e.current:
        return f"Editie {e.number} — {dutch_date(e.issued)}"
    return f"Werkversie na editie {e.number} van {dutch_date(e.issued)}"


def _places(e: Entry) -> str:
    return ", ".join([*e.municipalities, *e.neighbourhoods])


def sentence(text: str) -> str:
    """The text with a capital first letter (and the rest as it is: place names keep theirs)."""
    return text[:1].upper() + text[1:]


def record_status_note(status: str | None) -> str:
    """What the book says of a record's status: nothing for a validated record."""
    return "" if status in (None, "gevalideerd") else f" · status: {status}"


def sample_notice(book: Werkboek) -> str:
    """The cover's warning when the book holds sample data (status voorbeeld)."""
    n = book.statuses.get("voorbeeld", 0)
    if not n:
        return ""
    total = sum(book.statuses.values())
    return (f"Let op: {n} van de {total} records in dit werkboek zijn voorbeeldgegevens "
            "(status voorbeeld): publieke feiten aangevuld met illustratieve details, geen "
            "officiële publicatie van het platform.")


def _source(e: Entry | DrempelSection) -> str:
    s = e.source
    status = record_status_note(e.record_status)
    if s is None:
        return f"Record: {e.iri}{status}"
    date = f" ({dutch_date(s.date)})" if s.date else ""
    return f"Bron: {s.kind} {s.title}{date} · {e.iri}{status}"


def _where(d: DrempelSection) -> str:
    parts = [f"in {len(d.municipalities)} gemeenten ({', '.join(d.municipalities)})"
             if d.municipalities else "nog niet gelokaliseerd"]
    if d.neighbourhoods:
        parts.append(f"{len(d.neighbourhoods)} wijken ({', '.join(d.neighbourhoods)})")
    parts.append(f"{d.lessons_count} lessen uit {d.activities_count} activiteiten")
    if d.first_date:
        parts.append(f"van {dutch_date(d.first_date)} tot {dutch_date(d.last_date)}")
    return "; ".join(parts)


def _meta(d: DrempelSection) -> str:
    bits = [f"status: {d.status}"]
    if d.subtype:
        bits.append(d.subtype)
    if d.policy_level:
        bits.append(f"beleidsniveau: {d.policy_level}")
    if d.priority:
        bits.append("prioriteit werkprogramma")
    if d.also_under:
        bits.append("ook onder: " + ", ".join(d.also_under))
    return " · ".join(bits)


# -- Markdown ------------------------------------------------------------------------------

def to_markdown(book: Werkboek, generated: dt.datetime) -> str:
    out: list[str] = [f"# {book.title}", "", f"*{book.subtitle}*", "",
                      f"{edition_line(book)}. Gegenereerd op {dutch_date(generated.isoformat())}"
                      " uit de kennisgraaf; elke uitspraak verwijst naar haar record.", ""]
    if book.scope:
        out += [f"Deelwerkboek: {' · '.join(book.scope.values())}", ""]
    if sample_notice(book):
        out += [f"> **{sample_notice(book)}**", ""]
    out += ["## Inhoud", ""]
    for part in book.parts:
        out.append(f"- [{part.label}](#{_anchor(part.notation)})")
        out += [f"  - [Thema: {t.label}](#{_anchor(part.notation + '-' + t.notation)})"
                for t in part.themes]
    out += ["- [Wat nog openligt](#open)", "- [Registers](#registers)", ""]
    out += _md_changes(book)
    for part in book.parts:
        out += [f'<a id="{_anchor(part.notation)}"></a>', "", f"## {part.label}", ""]
        if part.definition:
            out += [f"*{part.definition}*", ""]
        for ch in part.chapters:
            out += [f"### {ch.title}{_md_change(ch.change)}", "", _nested(ch.text, 3), "",
                    f"<small>Record: {ch.iri}</small>", ""]
        for th in part.themes:
            out += [f'<a id="{_anchor(part.notation + "-" + th.notation)}"></a>', "",
                    f"### Thema: {th.label}", ""]
            if th.definition:
                out += [f"*{th.definition}*", ""]
            for d in th.drempels:
                out += _md_drempel(d)
    out += ['<a id="open"></a>', "", "## Wat nog openligt", ""]
    out += ([f"- [{d.title}](#{_anchor('d-' + d.id)})" for d in book.open_drempels]
            or ["Voor elke drempel in dit werkboek is minstens één doorbraak bekend."])
    out += ["", '<a id="registers"></a>', "", "## Registers", ""]
    for title, entries in (("Maatregelen", book.measures_index), ("Actoren", book.actors_index),
                           ("Wijken", book.neighbourhoods_index)):
        out += [f"### {title}", ""]
        out += [f"- **{e.label}**: " + "; ".join(f"[{r.title}](#{_anchor('d-' + r.id)})"
                                                 for r in e.drempels) for e in entries]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _nested(text: str, level: int) -> str:
    """A record's Markdown text under a heading of `level`: its own headings one level below."""
    def deeper(match: re.Match[str]) -> str:
        return "#" * min(6, len(match.group(1)) + level) + " "

    return re.sub(r"^(#{1,6})\s+", deeper, text, flags=re.MULTILINE)


def _anchor(value: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")


def _md_change(change: str | None) -> str:
    return f" *({change})*" if change else ""


def _md_changes(book: Werkboek) -> list[str]:
    out = ["## Nieuw sinds de vorige editie", ""]
    e = book.edition
    if e is None or not e.changes:
        return [*out, "Geen wijzigingen ten opzichte van een vorige editie.", ""]
    out += [f"- **{c.change}**: {c.title} ({TYPE_LABELS.get(c.type, c.type)}) — {c.iri}"
            for c in e.changes]
    return [*out, ""]


def _see(e: Entry) -> str:
    at = e.shown_at
    return f"Volledig beschreven bij [{at.title}](#{_anchor('d-' + at.id)})." if at else ""


def _md_drempel(d: DrempelSection) -> list[str]:
    out = [f'<a id="{_anchor("d-" + d.id)}"></a>', "", f"#### {d.title}{_md_change(d.change)}",
           "", f"*{_meta(d)}*", "", _nested(d.text, 4), "", f"<small>{_source(d)}</small>", "",
           f"**Waar komt ze voor?** {sentence(_where(d))}.", ""]
    if d.breakthroughs:
        out += ["**Hoe anderen ze overwonnen**", ""]
        for b in d.breakthroughs:
            out.append(f"- **{b.title}**{_md_change(b.change)} ({_places(b)})")
            if b.actors:
                out.append(f"  Met: {', '.join(a.title for a in b.actors)}.")
            if b.shown_at is not None:
                out.append(f"  {_see(b)}")
                continue
            out.append(f"  {' '.join(b.text.split())}")
            if b.measures:
                out.append(f"  *Maatregelen:* {'; '.join(m.title for m in b.measures)}.")
            if b.lessons:
                out.append(f"  *Lessen erachter:* {'; '.join(m.title for m in b.lessons)}.")
            out.append(f"  <small>{_source(b)}</small>")
        out.append("")
    else:
        out += ["**Nog niet overwonnen**: geen doorbraak bekend.", ""]
    for title, entries in (("Maatregelen", d.measures), (f"Lessen ({len(d.lessons)})",
                                                         d.lessons)):
        if entries:
            out += [f"**{title}**", ""]
            for e in entries:
                place = f" ({_places(e)})" if _places(e) else ""
                out.append(f"- **{e.title}**{_md_change(e.change)}{place}")
                out += ([f"  {_see(e)}"] if e.shown_at is not None else
                        [f"  {' '.join(e.text.split())}", f"  <small>{_source(e)}</small>"])
            out.append("")
    return out


# -- HTML ----------------------------------------------------------------------------------

def to_html(book: Werkboek, generated: dt.datetime) -> str:
    """A whole HTML document (its CSS inlined) with the same body as the site's page."""

    template = templates().env.get_template("werkboek_document.html")
    html = template.render(book=book, ctx=werkboek_context(book, generated), standalone=True,
                           links=_IriLinks())
    # The site's own stylesheet, inlined here: the file is read away from the site, and the
    # site's templates carry no inline style (its Content-Security-Policy forbids it).
    css = (STATIC_DIR / "wijken.css").read_text(encoding="utf-8").replace("</", "<\\/")
    return html.replace("</head>", f"<style>{css}</style>\n</head>", 1)


class _IriLinks:
    """Links of a document read away from the site: every record links to its IRI."""

    def href(self, iri: str, kind: str | None = None) -> str | None:
        return safe_href(iri)


def werkboek_context(book: Werkboek, generated: dt.datetime) -> dict[str, Any]:
    """What the HTML templates show besides the book itself."""
    return {"edition_line": edition_line(book), "generated": dutch_date(generated.isoformat()),
            "type_labels": TYPE_LABELS, "dutch_date": dutch_date, "where": _where,
            "places": _places, "sentence": sentence, "sample_notice": sample_notice(book),
            "status_note": record_status_note}


# -- DOCX ----------------------------------------------------------------------------------

def to_docx(book: Werkboek, generated: dt.datetime) -> bytes:
    from docx import Document
    from docx.enum.text import WD_BREAK
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    doc = Document()
    doc.core_properties.title = book.title
    doc.core_properties.language = "nl-BE"
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10.5)

    def field(paragraph: Any, code: str, placeholder: str) -> None:
        """A Word field (TOC, PAGE): Word computes it when the document is opened/updated."""
        run = paragraph.add_run()
        begin = OxmlElement("w:fldChar")
        begin.set(qn("w:fldCharType"), "begin")
        instr = OxmlElement("w:instrText")
        instr.set(qn("xml:space"), "preserve")
        instr.text = code
        sep = OxmlElement("w:fldChar")
        sep.set(qn("w:fldCharType"), "separate")
        text = OxmlElement("w:t")
        text.text = placeholder
        end = OxmlElement("w:fldChar")
        end.set(qn("w:fldCharType"), "end")
        for el in (begin, instr, sep, text, end):
            run._r.append(el)

    def small(text: str) -> None:
        p = doc.add_paragraph()
        r = p.add_run(text)
        r.font.size = Pt(8.5)
        r.font.color.rgb = RGBColor(0x55, 0x55, 0x55)

    def blocks(text: str) -> None:
        for b in text_blocks(text):
            if b["kind"] == "li":
                doc.add_paragraph(b["text"], style="List Bullet")
            elif b["kind"] == "ol":
                doc.add_paragraph(f"{b['n']}. {b['text']}")
            elif b["kind"] == "quote":
                doc.add_paragraph(b["text"], style="Quote")
            elif b["kind"] == "h":
                doc.add_paragraph().add_run(b["text"]).bold = True
            else:
                doc.add_paragraph(b["text"])

    footer = doc.sections[0].footer.paragraphs[0]
    footer.add_run(f"{book.title} — {edition_line(book)} — p. ")
    field(footer, "PAGE", "1")

    doc.add_heading(book.title, level=0)
    doc.add_paragraph(book.subtitle)
    if book.scope:
        doc.add_paragraph("Deelwerkboek: " + " · ".join(book.scope.values()))
    doc.add_paragraph(f"{edition_line(book)}. Gegenereerd op "
                      f"{dutch_date(generated.isoformat())} uit de kennisgraaf.")
    if sample_notice(book):
        doc.add_paragraph().add_run(sample_notice(book)).bold = True
    doc.add_heading("Inhoud", level=1)
    field(doc.add_paragraph(), 'TOC \\o "1-3" \\h \\z \\u',
          "Klik met de rechtermuisknop en kies 'Veld bijwerken' om de inhoudstafel te tonen.")
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    doc.add_heading("Nieuw sinds de vorige editie", level=1)
    changes = book.edition.changes if book.edition else []
    if not changes:
        doc.add_paragraph("Geen wijzigingen ten opzichte van een vorige editie.")
    for c in changes:
        p = doc.add_paragraph(style="List Bullet")
        p.add_run(c.change).bold = True
        p.add_run(f": {c.title} ({TYPE_LABELS.get(c.type, c.type)}) — {c.iri}")
    for part in book.parts:
        doc.add_heading(part.label, level=1)
        if part.definition:
            doc.add_paragraph().add_run(part.definition).italic = True
        for ch in part.chapters:
            doc.add_heading(ch.title, level=2)
            blocks(ch.text)
            small(f"Record: {ch.iri}")
        for th in part.themes:
            doc.add_heading(f"Thema: {th.label}", level=2)
            if th.definition:
                doc.add_paragraph().add_run(th.definition).italic = True
            for d in th.drempels:
                doc.add_heading(d.title + (f" ({d.change})" if d.change else ""), level=3)
                doc.add_paragraph().add_run(_meta(d)).italic = True
                blocks(d.text)
                small(_source(d))
                p = doc.add_paragraph()
                p.add_run("Waar komt ze voor? ").bold = True
                p.add_run(sentence(_where(d)) + ".")
                if d.breakthroughs:
                    doc.add_heading("Hoe anderen ze overwonnen", level=4)
                for b in d.breakthroughs:
                    p = doc.add_paragraph()
                    p.add_run(b.title).bold = True
                    p.add_run(f" ({_places(b)})" if _places(b) else "")
                    if b.shown_at is not None:
                        small(f"Volledig beschreven bij {b.shown_at.title}.")
                        continue
                    if b.actors:
                        doc.add_paragraph("Met: " + ", ".join(a.title for a in b.actors) + ".")
                    blocks(b.text)
                    if b.measures:
                        doc.add_paragraph("Maatregelen: " + "; ".join(m.title for m in b.measures))
                    if b.lessons:
                        doc.add_paragraph("Lessen erachter: "
                                          + "; ".join(m.title for m in b.lessons))
                    small(_source(b))
                if not d.breakthroughs:
                    doc.add_paragraph("Nog niet overwonnen: geen doorbraak bekend.")
                for title, entries in (("Maatregelen", d.measures),
                                       (f"Lessen ({len(d.lessons)})", d.lessons)):
                    if entries:
                        doc.add_heading(title, level=4)
                    for e in entries:
                        p = doc.add_paragraph(style="List Bullet")
                        p.add_run(e.title).bold = True
                        if _places(e):
                            p.add_run(f" ({_places(e)})")
                        if e.shown_at is not None:
                            small(f"Volledig beschreven bij {e.shown_at.title}.")
                            continue
                        blocks(e.text)
                        small(_source(e))
    doc.add_heading("Wat nog openligt", level=1)
    if not book.open_drempels:
        doc.add_paragraph("Voor elke drempel in dit werkboek is minstens één doorbraak bekend.")
    for r in book.open_drempels:
        doc.add_paragraph(r.title, style="List Bullet")
    doc.add_heading("Registers", level=1)
    for title, index in (("Maatregelen", book.measures_index), ("Actoren", book.actors_index),
                         ("Wijken", book.neighbourhoods_index)):
        doc.add_heading(title, level=2)
        for ie in index:
            p = doc.add_paragraph()
            p.add_run(ie.label).bold = True
            p.add_run(": " + "; ".join(r.title for r in ie.drempels))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# -- PDF -----------------------------------------------------------------------------------

def typst_data(book: Werkboek, generated: dt.datetime) -> dict[str, Any]:
    """The book as the Typst template reads it: texts as blocks, dates in Dutch."""
    data = book.model_dump()

    def with_blocks(entry: dict[str, Any]) -> None:
        entry["blocks"] = text_blocks(entry.get("text") or "")

    for part in data["parts"]:
        for ch in part["chapters"]:
            with_blocks(ch)
        for th in part["themes"]:
            for d in th["drempels"]:
                with_blocks(d)
                for key in ("breakthroughs", "measures", "lessons"):
                    for e in d[key]:
                        with_blocks(e)
                for e in (d, *d["breakthroughs"], *d["measures"], *d["lessons"]):
                    if e.get("source") and e["source"].get("date"):
                        e["source"]["date"] = dutch_date(e["source"]["date"])
                d["where"] = sentence(_where(DrempelSection.model_validate(d)))
                d["first_date"] = dutch_date(d["first_date"]) or None
                d["last_date"] = dutch_date(d["last_date"]) or None
    if data["edition"]:
        for c in data["edition"]["changes"]:
            c["type_label"] = TYPE_LABELS.get(c["type"], c["type"])
    data["edition_date"] = dutch_date(book.edition.issued) if book.edition else ""
    data["sample_notice"] = sample_notice(book)
    data["generated"] = dutch_date(generated.isoformat())
    return data


def to_pdf(book: Werkboek, generated: dt.datetime) -> bytes:
    import typst

    source = TYPST_TEMPLATE.read_bytes()
    payload = json.dumps(typst_data(book, generated), ensure_ascii=False)
    # The fonts bundled with Typst only: the same PDF on every machine.
    pdf = typst.compile(source, sys_inputs={"book": payload}, ignore_system_fonts=True,
                        timestamp=int(generated.timestamp()))
    if not isinstance(pdf, bytes):
        raise TypeError("typst.compile returned no PDF bytes")
    return pdf
