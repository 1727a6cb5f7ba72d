"""Generate the Markdown reference of the wijken ontology, concept schemes and SHACL shapes.

Run ``python -m ontology.reference > docs/ontology.md`` to regenerate docs/ontology.md; a test
checks that the committed file matches this output.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from rdflib import BNode, Graph, Literal, Node, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SH, SKOS

from ontology import SCHEMES, load_ontology, load_schemes, load_shapes, load_thesaurus
from ontology.namespaces import ONTOLOGY_IRI, PREFIXES, WK, scheme_iri

COMMAND = "python -m ontology.reference > docs/ontology.md"
_CURIES: dict[str, str] = {
    **PREFIXES,
    "sh": str(SH),
    "wks": "https://w3id.org/100wijken/shapes#",
    "cs": "https://w3id.org/100wijken/id/conceptscheme/",
    "ipdc": "https://productencatalogus.data.vlaanderen.be/id/concept/Thema/",
}
_CONCEPT_ROOT = "https://w3id.org/100wijken/id/concept/"
_SHACL_KEYS = (
    SH.minCount,
    SH.maxCount,
    SH.datatype,
    SH["class"],
    SH.nodeKind,
    SH.node,
    SH.hasValue,
    SH.pattern,
    SH.languageIn,
    SH.minInclusive,
    SH["or"],
)


def curie(term: Node) -> str:
    """Shortest prefixed name for an IRI (longest matching namespace), else ``<iri>``."""
    text = str(term)
    best = max((ns for ns in _CURIES.values() if text.startswith(ns)), key=len, default=None)
    if best is None:
        return f"<{text}>"
    prefix = next(p for p, ns in _CURIES.items() if ns == best)
    return f"{prefix}:{text[len(best) :]}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _text(graph: Graph, subject: Node, prop: URIRef, lang: str | None) -> str:
    """Values of ``prop`` in one language (``None``: plain literals), sorted and joined."""
    values = sorted(
        str(o)
        for o in graph.objects(subject, prop)
        if isinstance(o, Literal) and o.language == lang
    )
    return "; ".join(values)


def _terms(graph: Graph, node: Node) -> str:
    """A class expression or IRI as text: union classes become ``A ⊔ B``."""
    if isinstance(node, BNode):
        members = graph.value(node, OWL.unionOf)
        if members is not None:
            return " ⊔ ".join(curie(m) for m in Collection(graph, members))
        return "(anonymous)"
    return curie(node)


def _joined(graph: Graph, nodes: Iterable[Node]) -> str:
    return ", ".join(sorted(_terms(graph, n) for n in nodes)) or "—"


def _own(graph: Graph, rdf_type: URIRef) -> list[URIRef]:
    return sorted(
        (
            s
            for s in set(graph.subjects(RDF.type, rdf_type))
            if isinstance(s, URIRef) and str(s).startswith(str(WK))
        ),
        key=str,
    )


def _header(onto: Graph) -> list[str]:
    node = URIRef(ONTOLOGY_IRI)
    return [
        f"# {_text(onto, node, DCTERMS.title, 'en')}",
        "",
        f"<!-- Generated from ontology/*.ttl by `{COMMAND}`; do not edit by hand. -->",
        "",
        f"- IRI: `{ONTOLOGY_IRI}` (prefix `wk:` = `{WK}`)",
        f"- Title (nl): {_text(onto, node, DCTERMS.title, 'nl')}",
        f"- Version: {onto.value(node, OWL.versionInfo)}",
        f"- Created: {onto.value(node, DCTERMS.created)}",
        f"- Licence: <{onto.value(node, DCTERMS.license)}>",
        "",
        _text(onto, node, DCTERMS.description, "en"),
        "",
        _text(onto, node, DCTERMS.description, "nl"),
        "",
        "## Namespaces",
        "",
        "| prefix | IRI |",
        "| --- | --- |",
        *(f"| `{p}:` | `{iri}` |" for p, iri in sorted(_CURIES.items())),
        "",
    ]


def _labelled(onto: Graph, term: URIRef) -> list[str]:
    return [
        f"### {curie(term)}",
        "",
        f"- Label: {_text(onto, term, RDFS.label, 'nl')} (nl), "
        f"{_text(onto, term, RDFS.label, 'en')} (en)",
        f"- Definition (nl): {_text(onto, term, SKOS.definition, 'nl')}",
        f"- Definition (en): {_text(onto, term, SKOS.definition, 'en')}",
    ]


def _classes(onto: Graph) -> list[str]:
    lines = ["## Classes", ""]
    for cls in _own(onto, OWL.Class):
        subs = [s for s in onto.subjects(RDFS.subClassOf, cls) if isinstance(s, URIRef)]
        lines += [
            *_labelled(onto, cls),
            f"- Subclass of: {_joined(onto, onto.objects(cls, RDFS.subClassOf))}",
            f"- Subclasses: {_joined(onto, subs)}",
            "",
        ]
    return lines


def _properties(onto: Graph, kind: URIRef, title: str) -> list[str]:
    lines = [f"## {title}", ""]
    for prop in _own(onto, kind):
        traits = sorted(curie(t) for t in onto.objects(prop, RDF.type) if t != kind)
        lines += [
            *_labelled(onto, prop),
            f"- Domain: {_joined(onto, onto.objects(prop, RDFS.domain))}",
            f"- Range: {_joined(onto, onto.objects(prop, RDFS.range))}",
            f"- Subproperty of: {_joined(onto, onto.objects(prop, RDFS.subPropertyOf))}",
        ]
        if traits:
            lines.append(f"- Characteristics: {', '.join(traits)}")
        lines.append("")
    return lines


def _reused(onto: Graph) -> list[str]:
    lines = [
        "## Reused terms",
        "",
        "Terms of other vocabularies that wijken data uses, with the use they are put to.",
        "",
        "| term | declared as | use |",
        "| --- | --- | --- |",
    ]
    terms = sorted(
        (s for s in set(onto.subjects(SKOS.scopeNote, None)) if not str(s).startswith(str(WK))),
        key=curie,
    )
    for term in terms:
        kinds = ", ".join(sorted(curie(t) for t in onto.objects(term, RDF.type)))
        lines.append(
            f"| {curie(term)} | {kinds} | {_cell(_text(onto, term, SKOS.scopeNote, 'en'))} |"
        )
    return [*lines, ""]


def _notation(graph: Graph, concept: Node) -> str:
    value = graph.value(concept, SKOS.notation)
    return str(value) if value is not None else curie(concept)


def _concept_refs(graph: Graph, concept: Node, prop: URIRef) -> str:
    return ", ".join(sorted(_notation(graph, o) for o in graph.objects(concept, prop))) or "—"


def _scheme(schemes: Graph, name: str) -> list[str]:
    node = URIRef(scheme_iri(name))
    concepts = sorted(schemes.subjects(SKOS.inScheme, node), key=lambda c: _notation(schemes, c))
    lines = [
        f"### {name}",
        "",
        f"- IRI: `{node}`; concepts `{_CONCEPT_ROOT}{name}/{{notation}}`",
        f"- Label: {_text(schemes, node, SKOS.prefLabel, 'nl')} (nl), "
        f"{_text(schemes, node, SKOS.prefLabel, 'en')} (en)",
        f"- Definition: {_text(schemes, node, SKOS.definition, 'en')}",
        f"- Modified: {schemes.value(node, DCTERMS.modified)}",
        "",
        "| notation | label (nl) | label (en) | broader | LEKP werf | mapping | definition (nl) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in concepts:
        mapping = sorted(
            f"{curie(p)} {curie(o)}"
            for p in (SKOS.closeMatch, SKOS.exactMatch, SKOS.broadMatch)
            for o in schemes.objects(c, p)
        )
        lines.append(
            f"| `{_notation(schemes, c)}` | {_cell(_text(schemes, c, SKOS.prefLabel, 'nl'))} "
            f"| {_cell(_text(schemes, c, SKOS.prefLabel, 'en'))} "
            f"| {_concept_refs(schemes, c, SKOS.broader)} "
            f"| {_concept_refs(schemes, c, WK.lekpWerf)} "
            f"| {', '.join(mapping) or '—'} "
            f"| {_cell(_text(schemes, c, SKOS.definition, 'nl'))} |"
        )
    with_alts = [c for c in concepts if (c, SKOS.altLabel, None) in schemes]
    if with_alts:
        lines += ["", "Alternative labels (nl):", ""]
        for c in with_alts:
            alts = sorted((str(o) for o in schemes.objects(c, SKOS.altLabel)), key=str.casefold)
            lines.append(f"- `{_notation(schemes, c)}`: {', '.join(alts)}")
    return [*lines, ""]


def _schemes(schemes: Graph) -> list[str]:
    found = {str(s) for s in schemes.subjects(RDF.type, SKOS.ConceptScheme)}
    names = [n for n in SCHEMES if scheme_iri(n) in found]
    names += sorted(iri.rsplit("/", 1)[-1] for iri in found - {scheme_iri(n) for n in names})
    lines = ["## Concept schemes", ""]
    for name in names:
        lines += _scheme(schemes, name)
    return lines


def _thesaurus(thesaurus: Graph) -> list[str]:
    node = URIRef(scheme_iri("praktijkterm"))
    lines = [
        "## Practitioners' thesaurus",
        "",
        f"`ontology/thesaurus.ttl`: the scheme `{node}` "
        f"({_text(thesaurus, node, SKOS.prefLabel, 'nl')}), concepts "
        f"`{_CONCEPT_ROOT}praktijkterm/{{notation}}`.",
        "",
        f"{_text(thesaurus, node, SKOS.definition, 'en')} Search adds a group's other labels "
        "to a question that names one of them (docs/search.md). Groups by collection:",
        "",
    ]
    collections = sorted(thesaurus.subjects(RDF.type, SKOS.Collection),
                         key=lambda c: _text(thesaurus, c, SKOS.prefLabel, "en"))
    for col in collections:
        members = sorted(thesaurus.objects(col, SKOS.member),
                         key=lambda c: _notation(thesaurus, c))
        lines += [f"### {_text(thesaurus, col, SKOS.prefLabel, 'en')} "
                  f"({_text(thesaurus, col, SKOS.prefLabel, 'nl')}, {len(members)})", "",
                  "| notation | label (nl) | label (en) | near-equivalents (nl) |",
                  "| --- | --- | --- | --- |"]
        for c in members:
            alts = sorted((str(o) for o in thesaurus.objects(c, SKOS.altLabel)), key=str.casefold)
            lines.append(f"| `{_notation(thesaurus, c)}` "
                         f"| {_cell(_text(thesaurus, c, SKOS.prefLabel, 'nl'))} "
                         f"| {_cell(_text(thesaurus, c, SKOS.prefLabel, 'en'))} "
                         f"| {_cell(', '.join(alts))} |")
        lines.append("")
    return lines


def _constraint(shapes: Graph, key: URIRef, value: Node) -> str:
    if key == SH.languageIn:
        return f"languageIn ({' '.join(str(v) for v in Collection(shapes, value))})"
    if key == SH["or"]:
        options = []
        for option in Collection(shapes, value):
            inner = [
                _constraint(shapes, k, v) for k in _SHACL_KEYS for v in shapes.objects(option, k)
            ]
            options.append(" ".join(inner))
        return f"or ({' | '.join(options)})"
    shown = (
        f"`{value}`"
        if key == SH.pattern
        else (str(value) if isinstance(value, Literal) else curie(value))
    )
    return f"{curie(key).removeprefix('sh:')} {shown}"


def _shapes(shapes: Graph) -> list[str]:
    lines = [
        "## Validation (SHACL)",
        "",
        "Shapes in `ontology/shapes.ttl` (validated with inference `none`; the data graph must "
        "hold the ontology, the schemes and the municipality reference triples).",
        "",
    ]
    node_shapes = sorted(
        (s for s in set(shapes.subjects(SH.targetClass, None)) if isinstance(s, URIRef)), key=str
    )
    for shape in node_shapes:
        targets = ", ".join(sorted(curie(t) for t in shapes.objects(shape, SH.targetClass)))
        lines += [
            f"### {curie(shape)}",
            "",
            f"Targets: {targets}",
            "",
            "| path | constraints | message |",
            "| --- | --- | --- |",
        ]
        rows = []
        for prop in shapes.objects(shape, SH.property):
            path = shapes.value(prop, SH.path)
            parts = [
                _constraint(shapes, k, v) for k in _SHACL_KEYS for v in shapes.objects(prop, k)
            ]
            message = _text(shapes, prop, SH.message, None)
            shown = curie(path) if path is not None else "—"
            rows.append(f"| {shown} | {_cell('; '.join(parts))} | {_cell(message)} |")
        lines += [*sorted(rows), ""]
    return lines


def generate() -> str:
    """The full Markdown reference, deterministic for given Turtle files."""
    onto, schemes, shapes = load_ontology(), load_schemes(), load_shapes()
    lines = [
        *_header(onto),
        *_classes(onto),
        *_properties(onto, OWL.ObjectProperty, "Object properties"),
        *_properties(onto, OWL.DatatypeProperty, "Datatype properties"),
        *_reused(onto),
        *_schemes(schemes),
        *_thesaurus(load_thesaurus()),
        *_shapes(shapes),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    """Write the reference to standard output (UTF-8)."""
    sys.stdout.buffer.write(generate().encode("utf-8"))


if __name__ == "__main__":
    main()
