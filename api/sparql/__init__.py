"""The SPARQL 1.1 Protocol endpoint: request parsing (`protocol`), result formats and content
negotiation (`formats`), the service description, per-client slots, the editor's example
queries and the routes."""
