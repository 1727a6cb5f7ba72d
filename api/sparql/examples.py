"""Example queries offered on the SPARQL editor page, for partners who start from an example.

Each one runs against the sample corpus (tests/web/test_web_sparql.py runs them all).
"""

from __future__ import annotations

from dataclasses import dataclass

_PREFIXES = """PREFIX wk: <https://w3id.org/100wijken/ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""


@dataclass(frozen=True)
class Example:
    """A titled example query with a one-line Dutch explanation."""

    key: str
    title: str
    description: str
    query: str


# The municipality count of the drempel signals (`/signalen`, kg/signals.py): the drempel and
# the items linked to it, located directly or through their wijk.
SIGNALS_QUERY = _PREFIXES + """SELECT ?drempel ?titel (COUNT(DISTINCT ?gemeente) AS ?gemeenten)
       (COUNT(DISTINCT ?les) AS ?lessen) WHERE {
  ?drempel a wk:Threshold ; rdfs:label ?titel .
  OPTIONAL {
    ?item (wk:addresses|wk:overcomes)? ?drempel .
    { ?item wk:municipality ?gemeente } UNION { ?item wk:neighbourhood/wk:municipality ?gemeente }
  }
  OPTIONAL { ?les a wk:Lesson ; wk:addresses ?drempel }
}
GROUP BY ?drempel ?titel
ORDER BY DESC(?gemeenten) DESC(?lessen) ?titel
LIMIT 20"""

EXAMPLES: tuple[Example, ...] = (
    Example(
        "doorbraken-per-gemeente",
        "Doorbraken met hun drempel en gemeente",
        "Welke drempel overwint elke doorbraak, en waar?",
        _PREFIXES + """SELECT ?doorbraak ?titel ?drempel ?gemeente WHERE {
  ?doorbraak a wk:Breakthrough ; rdfs:label ?titel ; wk:overcomes/rdfs:label ?drempel .
  OPTIONAL { ?doorbraak wk:municipality/rdfs:label ?gemeente }
}
ORDER BY ?gemeente ?titel
LIMIT 50""",
    ),
    Example(
        "semantisch",
        "Semantisch zoeken met wk:similarity",
        "Lessen, drempels, maatregelen en doorbraken die inhoudelijk het best passen bij een "
        "Nederlandse vraag (cosinus-gelijkenis van de zoekindex).",
        _PREFIXES + """SELECT ?item ?titel ?score WHERE {
  ?item a ?klasse ; rdfs:label ?titel .
  ?klasse rdfs:subClassOf wk:KnowledgeItem .
  BIND (wk:similarity(?item, "hittestress en te weinig schaduw in de straat") AS ?score)
  FILTER (BOUND(?score))
}
ORDER BY DESC(?score)
LIMIT 10""",
    ),
    Example(
        "semantisch-renovatie",
        "Doorbraken over renovatie, gerangschikt op een vraag",
        "Combineert de graaf (thema renovatie) met semantische gelijkenis.",
        _PREFIXES + """SELECT ?doorbraak ?titel ?drempel ?score WHERE {
  ?doorbraak a wk:Breakthrough ; rdfs:label ?titel ; wk:overcomes ?d .
  ?d dct:subject <https://w3id.org/100wijken/id/concept/thema/renovatie> ;
     rdfs:label ?drempel .
  BIND (wk:similarity(?doorbraak,
        "Hoe helpen we eigenaars die hun renovatie niet kunnen voorfinancieren?") AS ?score)
}
ORDER BY DESC(?score)
LIMIT 20""",
    ),
    Example(
        "drempels-per-soort",
        "Drempels per soort",
        "Hoeveel drempels van elke soort (financieel, juridisch…) er zijn.",
        _PREFIXES + """SELECT ?soort (COUNT(?t) AS ?aantal) WHERE {
  ?t a wk:Threshold ; dct:type ?type .
  ?type skos:prefLabel ?soort FILTER (lang(?soort) = "nl")
}
GROUP BY ?soort
ORDER BY DESC(?aantal)""",
    ),
    Example(
        "pionierswijken",
        "Pionierswijken en hun aantal kennisitems",
        "Elke wijk met het aantal lessen, drempels, maatregelen en doorbraken die erover gaan.",
        _PREFIXES + """SELECT ?wijk ?naam (COUNT(?item) AS ?items) WHERE {
  ?wijk a wk:Neighbourhood ; rdfs:label ?naam .
  OPTIONAL { ?item wk:neighbourhood ?wijk }
}
GROUP BY ?wijk ?naam
ORDER BY DESC(?items)""",
    ),
    Example(
        "bronbestanden",
        "Bronbestanden (named graphs)",
        "Uit welk bronbestand elk record komt, met het aantal records per bestand.",
        _PREFIXES + """SELECT ?graaf (COUNT(?record) AS ?records) WHERE {
  GRAPH ?graaf { ?record dct:identifier ?id }
  ?graaf a wk:SourceGraph .
}
GROUP BY ?graaf
ORDER BY DESC(?records)""",
    ),
    Example(
        "drempelsignalen",
        "Drempels die het vaakst terugkomen",
        "In hoeveel gemeenten komt elke drempel terug (de drempel en de lessen, maatregelen en "
        "doorbraken die eraan gelinkt zijn), en in hoeveel lessen? Dezelfde telling als "
        "/signalen.",
        SIGNALS_QUERY,
    ),
)
DEFAULT_EXAMPLE = EXAMPLES[0]
