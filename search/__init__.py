"""Dutch semantic search: embedders, vector index, BM25, hybrid ranking and evaluation."""
