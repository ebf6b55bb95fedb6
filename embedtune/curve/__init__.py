"""Learning curves: the finetune recipe on nested fractions of the training pairs, scored on the
same test queries, with a verdict on whether more labelled data would still help
(docs/learning-curves.md)."""

from embedtune.curve.fractions import DEFAULT_FRACTIONS, nested_subsets, parse_fractions

__all__ = ["DEFAULT_FRACTIONS", "nested_subsets", "parse_fractions", "run_curve"]


def run_curve(*args, **kwargs):
    """embedtune.curve.run.run_curve (imported on use: it loads the training stack)."""
    from embedtune.curve.run import run_curve as _run_curve

    return _run_curve(*args, **kwargs)
