"""embedtune: finetune sentence-embedding models for retrieval and prove they retrieve better."""

__version__ = "0.1.0"
