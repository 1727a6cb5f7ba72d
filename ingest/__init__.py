"""Ingest: read records from files, validate, resolve references, link mentions, map to RDF."""
