"""Baselines the dense model must beat on the same test queries: BM25 (bm25s) and a hybrid of
BM25 + the dense model by reciprocal rank fusion. Entry point: block.baseline_block."""
