"""Synthetic training data: documents -> chunks -> (query, document, negative query) examples."""
