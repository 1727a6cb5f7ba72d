"""Synthetic Dutch records for benchmarks: realistic shape and links, deterministic (seeded).

`python scripts/synthetic.py 10000 > records.jsonl` writes N records in the JSONL ingest
format: 5 % thresholds, 20 actors, then lessons, measures and breakthroughs that link to them,
with themes and Flemish municipalities. The texts are assembled from practitioners' phrases, so
tokenisation, mention linking and BM25 see Dutch of the usual length (~90 words).
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator

THEMES = ["renovatie", "energie", "warmte", "energiegemeenschap", "vergroening", "ontharding",
          "water", "mobiliteit", "participatie", "energiearmoede", "financiering",
          "openbaar-domein", "samenwerking"]
MUNICIPALITIES = ["Antwerpen", "Gent", "Brugge", "Leuven", "Mechelen", "Turnhout", "Mortsel",
                  "Zoersel", "Temse", "Beringen", "Genk", "Hasselt", "Kortrijk", "Oostende",
                  "Eeklo", "Dendermonde", "Vilvoorde", "Roeselare", "Aalst", "Lier"]
SUBJECTS = ["De gemeente", "Het projectteam", "De renovatiecoach", "Het Energiehuis",
            "De intercommunale", "Een bewonersgroep", "De woonmaatschappij", "De coöperatie",
            "De dienst omgeving", "Het wijkteam", "De stad", "De netbeheerder"]
VERBS = ["organiseerde", "testte", "financierde", "begeleidde", "plande", "combineerde",
         "evalueerde", "startte", "versnelde", "koppelde"]
OBJECTS = ["een collectieve renovatie per bouwblok", "een warmtenet met restwarmte",
           "de heraanleg van het openbaar domein", "een klimaattafel in de wijk",
           "een rollend fonds voor noodkopers", "deelwagens aan een Hoppinpunt",
           "het ontharden van een schoolspeelplaats", "de opvang van hemelwater",
           "zonnepanelen op publieke daken", "een energiegemeenschap met een school",
           "renovatiebegeleiding voor appartementsgebouwen", "een burenpremie-project",
           "infiltratie in een wadi", "bomen en geveltuinen in smalle straten",
           "een laadplan met de netbeheerder", "een wijkrenovatiescan"]
OUTCOMES = ["Dat leverde meer deelnemers op dan verwacht.", "De doorlooptijd bleek langer.",
            "Bewoners reageerden positief op de persoonlijke aanpak.",
            "De kosten vielen lager uit door de gezamenlijke aanbesteding.",
            "Zonder vaste trekker viel het project stil.",
            "De subsidievoorwaarden maakten het moeilijk om te combineren.",
            "Door vroeg met de netbeheerder te praten vermeden we vertraging.",
            "Kwetsbare huurders bereikten we pas via het buurtwerk."]
LESSONS = ["Andere besturen kunnen dit overnemen als ze vooraf de rollen vastleggen.",
           "Plan de communicatie in de taal van de bewoners.",
           "Reken de beheerkost van bij de start mee.",
           "Werk met een modelbesluit zodat de VME sneller beslist.",
           "Koppel de werken aan geplande rioleringswerken."]


def _text(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(4, 6)):
        sentences.append(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
                         f"in {rng.choice(MUNICIPALITIES)}.")
        sentences.append(rng.choice(OUTCOMES))
    sentences.append(rng.choice(LESSONS))
    return " ".join(sentences)


def records(n: int, seed: int = 42) -> Iterator[dict[str, object]]:
    """N synthetic records (ids `syn-…`), thresholds and actors first."""
    rng = random.Random(seed)
    n_thresholds = max(2, n // 20)
    n_actors = 20
    thresholds = [f"syn-drempel-{i:05d}" for i in range(n_thresholds)]
    actors = [f"syn-actor-{i:03d}" for i in range(n_actors)]
    for i, a in enumerate(actors):
        yield {"id": a, "type": "actor", "title": f"Synthetische organisatie {i}",
               "alt_labels": [f"SYN{i}"], "subtype": "middenveld"}
    for t in thresholds:
        yield {"id": t, "type": "threshold", "title": f"Drempel: {rng.choice(OBJECTS)} loopt vast",
               "text": _text(rng), "themes": rng.sample(THEMES, 2), "subtype": "organisatorisch"}
    kinds = ["lesson"] * 5 + ["measure"] * 3 + ["breakthrough"] * 2
    for i in range(n - n_thresholds - n_actors):
        kind = kinds[i % len(kinds)]
        rec: dict[str, object] = {
            "id": f"syn-{kind}-{i:05d}", "type": kind,
            "title": f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}",
            "text": _text(rng), "themes": rng.sample(THEMES, rng.randint(1, 3)),
            "municipality": rng.choice(MUNICIPALITIES),
            "thresholds": rng.sample(thresholds, rng.randint(1, 2)),
            "actors": rng.sample(actors, rng.randint(0, 2)),
            "date": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        }
        yield rec


def main() -> None:
    """Write N records (default 10,000) as JSON Lines to stdout."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    for rec in records(n):
        sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
