"""The `wijken` command: thin commands over the KnowledgeBase, clean errors, progress bars.

Each command imports what it needs inside its function, so that `wijken --help` and a bad
argument answer without first loading FastAPI, rdflib, spaCy and FAISS (`wijken --help` takes
0.7 s here; the service's imports alone take 1.2 s). These imports go downward only.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kg.errors import IngestError, UserError, WijkenError
from kg.settings import Settings

if TYPE_CHECKING:
    import socket

    from rich.progress import TaskID

    from api.knowledgebase import KnowledgeBase
    from search.result_models import SearchResult

app = typer.Typer(
    name="wijken",
    help="Knowledge graph and Dutch semantic search for the 100 WIJKEN PLATFORM.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", envvar="WIJKEN_DATA_DIR", show_envvar=True,
                 help="Data directory (store and index). Default: ./wijken-data."),
]


def _settings(data_dir: Path | None, **overrides: Any) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error for a user (no traceback) and return the exit to raise."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _batch_threads() -> int | None:
    """Batch work (ingest, reindex) may use every core unless WIJKEN_THREADS says otherwise."""
    return None if "WIJKEN_THREADS" in os.environ else os.cpu_count()


@contextmanager
def knowledge_base(data_dir: Path | None, *, read_only: bool = False, **overrides: Any
                   ) -> Iterator[KnowledgeBase]:
    """Open the knowledge base of a data directory; turn domain errors into clean exits."""
    from api.knowledgebase import KnowledgeBase

    try:
        settings = _settings(data_dir, **overrides)
    except Exception as exc:  # pydantic ValidationError from an env var or option
        raise fail(f"invalid setting: {exc}", 2) from None
    kb = None
    try:
        kb = KnowledgeBase.from_settings(settings, read_only=read_only)
        yield kb
    except IngestError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except WijkenError as exc:
        raise fail(str(exc)) from None
    except FileNotFoundError as exc:
        raise fail(str(exc)) from None
    finally:
        if kb is not None:
            kb.close()


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar fed by (stage, done, total) callbacks; silent when not a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    labels = {"read": "Lezen", "link": "Koppelen", "write": "Schrijven", "embed": "Embedden",
              "index": "Indexeren"}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), transient=False, disable=not sys.stderr.isatty(),
                  console=__import__("rich.console").console.Console(stderr=True)) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


@app.command()
def init(data_dir: DataDir = None) -> None:
    """Create the data directory and load the ontology, schemes and municipalities."""
    with knowledge_base(data_dir) as kb:
        stats = kb.stats()
        typer.echo(f"ready: {kb.data_dir} ({stats.triples} triples)")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to ingest.")],
    data_dir: DataDir = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; write nothing.")] =
    False,
    force: Annotated[bool, typer.Option("--force", help="Re-ingest unchanged files too.")] =
    False,
) -> None:
    """Ingest JSONL, CSV, XLSX, Markdown or RDF records (a directory is walked)."""
    with knowledge_base(data_dir, threads=_batch_threads()) as kb, progress_bar() as progress:
        report = kb.ingest(paths, dry_run=dry_run, force=force, progress=progress)
    verb = "would change" if dry_run else "changed"
    for f in report.files:
        detail = "" if f.status == "unchanged" else (
            f" (+{len(f.added)} ~{len(f.updated)} -{len(f.removed)})")
        typer.echo(f"{f.status:9} {f.records:5} records  {f.path}{detail}")
    n = sum(f.status != "unchanged" for f in report.files)
    typer.echo(f"{'dry run: ' if dry_run else ''}{n} file(s) {verb}, "
               f"{len(report.ids('added'))} added, {len(report.ids('updated'))} updated, "
               f"{len(report.ids('removed'))} removed")


@app.command()
def werkboek(
    data_dir: DataDir = None,
    fmt: Annotated[str, typer.Option("--format", help="html | pdf | md | docx")] = "pdf",
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="The file to write ('-': standard output); default "
        "werkboek.FORMAT in the current directory.")] = None,
    werf: Annotated[str, typer.Option(help="Only this LEKP werf (e.g. werf-2).")] = "",
    theme: Annotated[str, typer.Option(help="Only this theme (notation, e.g. renovatie).")] = "",
    municipality: Annotated[str, typer.Option(
        help="Only the drempels met in this municipality (name or NIS code).")] = "",
    list_editions: Annotated[bool, typer.Option(
        "--editions", help="Print the edition log instead of writing the werkboek.")] = False,
) -> None:
    """Generate the dynamisch werkboek (werf → theme → drempel) from the graph.

    Records a new edition first when the records changed since the last one; the book lists
    what is new since the edition before it."""
    from api.werkboek.render import FORMAT_MEDIA_TYPES, render
    from kg.werkboek import WerkboekScope

    if fmt not in FORMAT_MEDIA_TYPES:
        raise fail(f"unknown --format {fmt!r}; use one of {', '.join(FORMAT_MEDIA_TYPES)}", 2)
    with knowledge_base(data_dir, threads=_batch_threads()) as kb:
        if list_editions:
            for e in kb.editions():
                changes = e.get("changes")
                n = len(changes) if isinstance(changes, list) else 0
                typer.echo(f"editie {e['number']:>3}  {e['issued']}  {e['records']} records, "
                           f"{n} gewijzigd sinds de vorige  {e['iri']}")
            return
        kb.publish_edition()
        try:
            book = kb.werkboek(WerkboekScope(werf=werf, theme=theme, municipality=municipality))
        except UserError as exc:
            raise fail(str(exc), 2) from None
        data = render(book, fmt)
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    target = output or Path(f"werkboek.{fmt}")
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise fail(f"cannot write {target}: {exc.strerror or exc}", 2) from None
    drempels = len(book.drempels)
    typer.echo(f"{target}: {drempels} drempels in {len(book.parts)} werven, "
               f"{len(book.open_drempels)} nog open; "
               + (f"editie {book.edition.number}" if book.edition else "geen editie"))


@app.command()
def contributions(
    data_dir: DataDir = None,
    status: Annotated[str, typer.Option(help="Only this status: ingediend, gevalideerd or "
                                        "afgewezen.")] = "",
    forget_contact: Annotated[str, typer.Option(
        "--forget-contact", help="Delete the contact e-mail of this contribution (receipt id), "
        "on the contributor's request.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the contributions (the harvest inbox), or delete a contributor's e-mail."""
    if status and status not in ("ingediend", "gevalideerd", "afgewezen"):
        raise fail(f"unknown --status {status!r}; use ingediend, gevalideerd or afgewezen", 2)
    from ingest.contributions import Inbox

    # The inbox is files beside the store: no need to open (and lock) the store, so this also
    # works while `wijken serve` runs on the data directory.
    try:
        inbox = Inbox(_settings(data_dir).data_dir)
    except Exception as exc:  # pydantic ValidationError from an env var or option
        raise fail(f"invalid setting: {exc}", 2) from None
    try:
        if forget_contact:
            existed = inbox.forget_contact(forget_contact)
            typer.echo(f"{forget_contact}: " + ("contact e-mail deleted" if existed
                                                else "no contact e-mail was kept"))
            return
        found = inbox.all(status or None)
    except WijkenError as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps([c.model_dump() for c in found], ensure_ascii=False, indent=2))
        return
    for c in found:
        typer.echo(f"{c.id}  {c.status:11}  {c.submitted}  {c.record_type:12}  "
                   f"{c.record.get('title', '')}  ({c.organisation}, {c.channel})")
    typer.echo(f"{len(found)} contribution(s)")


@app.command("curator-password")
def curator_password(
    stdin: Annotated[bool, typer.Option("--stdin", help="Read the password from standard "
                                        "input instead of asking.")] = False,
) -> None:
    """Print the scrypt hash of a curators' password, for WIJKEN_CURATOR_PASSWORD_HASH."""
    from api.security import hash_password

    if stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Wachtwoord", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        raise fail("a curators' password has at least 12 characters", 2)
    typer.echo(hash_password(password))


@app.command()
def stats(data_dir: DataDir = None,
          as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Counts of records per type, theme and municipality."""
    with knowledge_base(data_dir) as kb:
        s = kb.stats()
    if as_json:
        typer.echo(json.dumps(s.__dict__, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{s.triples} triples in {s.source_graphs} source file graph(s)")
    for title, counts in (("type", s.types), ("theme", s.themes),
                          ("municipality", s.municipalities)):
        typer.echo(f"\nper {title}:")
        for name, n in counts.items():
            typer.echo(f"  {name:30} {n:6}")


@app.command()
def sparql(
    query: Annotated[str, typer.Argument(help="A SPARQL 1.1 query (or @file to read one).")],
    data_dir: DataDir = None,
    fmt: Annotated[str, typer.Option("--format", help="json | csv | table (SELECT/ASK); "
                                     "CONSTRUCT/DESCRIBE print Turtle.")] = "table",
) -> None:
    """Run a SPARQL query over the union of all graphs."""
    from api.sparql.formats import render

    if fmt not in ("json", "csv", "table"):
        raise fail(f"unknown --format {fmt!r}; use json, csv or table", 2)
    if query.startswith("@"):
        try:
            query = Path(query[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise fail(f"cannot read the query file: {exc}", 2) from None
    with knowledge_base(data_dir, read_only=True) as kb:
        typer.echo(render(kb.sparql(query), fmt), nl=False)


@app.command()
def export(
    data_dir: DataDir = None,
    fmt: Annotated[str, typer.Option("--format", help="ttl | nt | jsonld | trig | nq")] = "trig",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write.")] =
    None,
) -> None:
    """Export the whole graph (TriG/N-Quads keep the named graphs)."""
    with knowledge_base(data_dir) as kb:
        data = kb.export(fmt)
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        typer.echo(f"wrote {len(data)} bytes to {output}", err=True)


def _print_answer(result: SearchResult) -> None:
    """What search understood, the suggestions and the answer card, before the hits."""
    if result.suggestions:
        typer.echo("Bedoelt u " + " of ".join(
            f"{s.label} (--{s.filter} {s.value})" for s in result.suggestions) + "?")
    card = result.answer
    if card is None or not card.thresholds:
        return
    typer.secho("Wat anderen deden:", bold=True)
    for t in card.thresholds:
        typer.echo(f"  drempel ({t.status}): {t.title}")
        for b in t.breakthroughs:
            place = ", ".join(r.title for r in (b.neighbourhood, b.municipality) if r is not None)
            typer.echo(f"    - {b.title}" + (f" ({place})" if place else ""))
            if b.measures:
                typer.echo("      met: " + "; ".join(m.title for m in b.measures[:3]))
    typer.echo("")


def _print_hits(result: SearchResult) -> None:
    _print_answer(result)
    if not result.hits:
        typer.echo("Geen resultaten.")
    for n, h in enumerate(result.hits, start=1):
        place = ", ".join(r.title for r in (h.neighbourhood, h.municipality) if r is not None)
        typer.secho(f"{n:2}. [{h.type_label}] {h.title}", bold=True)
        typer.echo(f"    {h.id}  score {h.score:.4f}" + (f"  {place}" if place else ""))
        typer.echo(f"    {h.snippet}")
        if h.thresholds:
            typer.echo("    drempels: " + "; ".join(t.title for t in h.thresholds[:3]))
        typer.echo(f"    waarom: {h.explanation}")


def parse_batch(text: str, label: str, filters: dict[str, str], k: int
                ) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    """Questions of a batch text with their line numbers, and a message per bad line.

    Lines are split at line ends (not at U+2028, which a JSON string may hold) and each is
    checked for nesting depth before it is parsed, like a JSON Lines file for ingest; text with
    characters XML forbids (a NUL) is refused.
    """
    from ingest.readers import json_lines, parse_json_line
    from kg.xmlchars import xml_forbidden_char, xml_forbidden_message
    from search.engine import FILTERS

    out, problems = [], []
    for n, line in json_lines(text):
        if not line.strip():
            continue
        q, error = parse_json_line(line)
        if error is not None:
            problems.append(f"{label}:{n}: {error}")
            continue
        if not isinstance(q, dict):
            problems.append(f"{label}:{n}: a line must hold one JSON object")
            continue
        nested = q.get("filters", {})
        if not isinstance(nested, dict):
            problems.append(f"{label}:{n}: filters: must be an object like "
                            '{"theme": "water"}')
            continue
        merged = {**filters, **nested, **{f: q[f] for f in FILTERS if f in q}}
        bad = sorted(set(nested) - set(FILTERS))
        if bad:
            problems.append(f"{label}:{n}: filters: unknown {', '.join(bad)}; use "
                            f"{', '.join(FILTERS)}")
        if not isinstance(q.get("query"), str) or not q["query"].strip():
            problems.append(f"{label}:{n}: query: needs a non-empty string")
        qk = q.get("k", k)
        if isinstance(qk, bool) or not isinstance(qk, int) or not 1 <= qk <= 100:
            problems.append(f"{label}:{n}: k: must be a whole number from 1 to 100")
        if not all(isinstance(v, str | int) for v in merged.values()):
            problems.append(f"{label}:{n}: filters: values must be strings")
        for name, value in (("query", q.get("query")), ("qid", q.get("qid")), *merged.items()):
            char = xml_forbidden_char(value) if isinstance(value, str) else None
            if char is not None:
                problems.append(f"{label}:{n}: {name}: {xml_forbidden_message(char)}")
        out.append((n, {**{f: str(v) for f, v in merged.items()}, "query": q.get("query"),
                        "qid": q.get("qid"), "k": qk}))
    return out, problems


def _read_batch(path: Path, filters: dict[str, str], k: int
                ) -> list[tuple[int, dict[str, Any]]]:
    """Questions of a batch file with their line numbers; every bad line is reported at once."""
    from kg.xmlchars import escape_xml_forbidden

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {path}: {exc}", 2) from None
    out, problems = parse_batch(text, str(path), filters, k)
    if problems:
        raise fail(escape_xml_forbidden("\n".join(problems)), 2)
    return out


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(help="A Dutch question.")] = None,
    data_dir: DataDir = None,
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Number of hits.")] = 10,
    type_: Annotated[str | None, typer.Option("--type", help="lesson, threshold, measure, "
                                              "breakthrough (comma-separated).")] = None,
    theme: Annotated[str | None, typer.Option("--theme", help="Theme notation(s).")] = None,
    municipality: Annotated[str | None, typer.Option("--municipality",
                                                     help="Name or NIS code.")] = None,
    neighbourhood: Annotated[str | None, typer.Option("--neighbourhood",
                                                      help="Neighbourhood id.")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Actor id.")] = None,
    batch: Annotated[Path | None, typer.Option(
        "--batch", help="JSON Lines of {qid, query, filters...}; one result object per line.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Hybrid (semantic + BM25 + graph) search for a Dutch question."""
    if (query is None) == (batch is None):
        raise fail("give a question or --batch FILE (not both)", 2)
    filters = {name: value for name, value in (
        ("type", type_), ("theme", theme), ("municipality", municipality),
        ("neighbourhood", neighbourhood), ("actor", actor)) if value}
    questions: list[tuple[int, dict[str, Any]]] = []
    if batch is not None:
        questions = _read_batch(batch, filters, k)
    with knowledge_base(data_dir, read_only=True) as kb:
        engine = kb.search_engine
        if batch is not None:
            results, errors = [], []
            for line, q in questions:
                try:
                    results.append(engine.search_many([q], k=k)[0])
                except WijkenError as exc:
                    errors.append(f"{batch}:{line}: {exc}")
            if errors:
                raise fail("\n".join(errors))
            for result in results:
                if as_json:
                    typer.echo(result.model_dump_json())
                else:
                    typer.secho(f"# {result.qid}: {result.query}", bold=True)
                    _print_hits(result)
            return
        assert query is not None
        result = kb.search(query, k=k, filters=filters)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        _print_hits(result)


@app.command()
def reindex(data_dir: DataDir = None) -> None:
    """Rebuild the search index from the graph (after a model change or a stale index)."""
    with knowledge_base(data_dir, threads=_batch_threads()) as kb, progress_bar() as progress:
        report = kb.search_engine.sync(progress=progress, rebuild=True)
    typer.echo(f"indexed {report.total} items ({report.embedded} embedded)")


@app.command()
def tune(
    data_dir: DataDir = None,
    questions: Annotated[Path, typer.Option(
        "--questions", help="Labelled question set; its `test` split (else all of it) judges "
        "the tuned model. Never trained on.")] = Path("data/eval/questions.jsonl"),
    epochs: Annotated[int, typer.Option("--epochs", min=1, max=20)] = 1,
    learning_rate: Annotated[float, typer.Option("--learning-rate", min=1e-6, max=1e-1)] = 2e-3,
    layers: Annotated[int, typer.Option(
        "--layers", min=1, max=12, help="Top layers whose biases and LayerNorm weights are "
        "tuned.")] = 4,
    batch_size: Annotated[int, typer.Option("--batch-size", min=2, max=256)] = 32,
    max_pairs: Annotated[int | None, typer.Option(
        "--max-pairs", min=2, help="Train on at most this many pairs (quick runs).")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 13,
    min_gain: Annotated[float, typer.Option(
        "--min-gain", help="Adopt only when hybrid nDCG@10 gains at least this much.")] = 0.005,
    adopt: Annotated[bool, typer.Option(
        "--adopt/--no-adopt", help="Adopt a better model (reindex), or only report.")] = True,
    discard: Annotated[bool, typer.Option(
        "--discard", help="Serve the untuned model again (reindex) and stop.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fine-tune e5 on the knowledge base's curated links, judge it on held-back questions
    before and after, and adopt it (reindexing) only when it is better. Needs the `st` extra
    (torch)."""
    from search.evaluate import load_questions
    from search.tuning import TuneConfig, tune_engine
    from search.tuning import discard as run_discard

    with knowledge_base(data_dir, threads=_batch_threads()) as kb, progress_bar() as progress:
        if discard:
            done = run_discard(kb.search_engine, progress=progress)
            typer.echo("serving the untuned model again" if done else
                       "no tuned model was served; nothing changed")
            return
        if not questions.is_file():
            raise fail(f"--questions {questions}: no such file (a labelled question set judges "
                       "whether the tuned model is better)", 2)
        qs = load_questions(questions)
        config = TuneConfig(epochs=epochs, learning_rate=learning_rate, train_layers=layers,
                            batch_size=batch_size, max_pairs=max_pairs, seed=seed)
        outcome = tune_engine(kb.search_engine, qs, config, min_gain=min_gain, adopt=adopt,
                              progress=progress)
    report = outcome.report
    if as_json:
        typer.echo(json.dumps({
            "questions": outcome.questions, "before": outcome.before, "after": outcome.after,
            "adopted": outcome.adopted, "reason": outcome.reason, "model": outcome.model.name,
            "pairs": report.pairs, "pairs_by_kind": report.pairs_by_kind,
            "steps": report.steps, "train_seconds": round(report.seconds, 1),
            "seconds": round(outcome.seconds, 1)}, indent=2))
        return
    kinds = ", ".join(f"{k} {n}" for k, n in report.pairs_by_kind.items())
    typer.echo(f"trained on {report.pairs} pairs from curated links ({kinds}): {report.steps} "
               f"steps, {report.parameters:,} parameters, {report.seconds:.0f} s")
    typer.echo(f"nDCG@10 on {outcome.questions} held-back questions:")
    for name in outcome.before:
        typer.echo(f"  {name:<20} before {outcome.before[name]:.3f}   after "
                   f"{outcome.after.get(name, float('nan')):.3f}")
    verdict = "adopted" if outcome.adopted else "not adopted"
    typer.echo(f"{outcome.model.name}: {verdict} ({outcome.reason}); {outcome.seconds:.0f} s "
               "in all")


@app.command(name="eval")
def evaluate(
    data_dir: DataDir = None,
    questions: Annotated[Path, typer.Option("--questions", help="Labelled question set.")] =
    Path("data/eval/questions.jsonl"),
    ablation: Annotated[bool, typer.Option(
        "--ablation", help="Also rank with each lever of the hybrid off (or on) in turn.")] =
    False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """nDCG@10 (with a 95 % bootstrap interval), Recall@10 and MRR of BM25, dense and hybrid on
    a labelled question set, per kind, tag and split."""
    from search.evaluate import ablation as run_ablation
    from search.evaluate import evaluate as run
    from search.evaluate import load_questions, markdown_table, report_groups

    with knowledge_base(data_dir, read_only=True) as kb:
        qs = load_questions(questions)
        results = run(kb.search_engine, qs)
        levers = run_ablation(kb.search_engine, qs) if ablation else {}
    if as_json:
        typer.echo(json.dumps({**results, **({"ablation": levers} if ablation else {})},
                              indent=2))
        return
    typer.echo(markdown_table(results, report_groups(results)), nl=False)
    if ablation:
        typer.echo("\nAblation (hybrid):\n")
        typer.echo(markdown_table(levers, ["all", "paraphrase", "split:test",
                                           "paraphrase/test"]), nl=False)


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Annotated[str | None, typer.Option("--host", help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port.")] = None,
) -> None:
    """Serve the JSON API, SPARQL endpoint, linked data and web interface."""
    import uvicorn

    from api.app import create_app

    try:
        settings = _settings(data_dir, host=host, port=port)
    except Exception as exc:
        raise fail(f"invalid setting: {exc}", 2) from None
    try:
        sock = _listen(settings.host, settings.port)
    except OSError as exc:
        raise fail(f"cannot listen on {settings.host}:{settings.port}: {exc}") from None
    if settings.sandbox:
        # From here on this process (and the SPARQL workers it spawns) cannot open a network
        # socket: the listening one exists, and nothing the service does needs another.
        from kg.sandbox import deny_network

        if not deny_network():
            typer.secho("warning: the network sandbox is not available here", err=True)
    try:
        application = create_app(settings)
        server = uvicorn.Server(uvicorn.Config(application, log_level="info"))
        server.run(sockets=[sock])
    except WijkenError as exc:
        raise fail(str(exc)) from None


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket for uvicorn, made before the sandbox closes the door."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: without, small responses wait ~40 ms for delayed ACKs.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def main() -> None:
    """Entry point of the `wijken` script."""
    os.umask(0o077)  # what wijken writes (store, index, exports) is its owner's alone
    app()


if __name__ == "__main__":
    main()
