"""Knowledge-graph core: settings, IRIs, the on-disk store and the KnowledgeBase facade."""
