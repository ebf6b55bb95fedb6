"""Per-epoch evaluation inside SentenceTransformerTrainer, reusing the one-encoding evaluator."""

from __future__ import annotations

import logging
import sys

from sentence_transformers.base.evaluation.evaluator import BaseEvaluator

from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.evaluator import RetrievalEvaluator
from embedtune.evaluation.retrieval import VALIDATION, RetrievalEvaluation
from embedtune.progress import transient_bars
from embedtune.results_schema import PRIMARY_METRIC

logger = logging.getLogger(__name__)

# What selection maximises unless --best-dim names one dim: nDCG@10 averaged over the trained
# Matryoshka dims, which is what the Matryoshka loss optimises (one dim alone let checkpoints
# that hurt the small dims win).
MEAN_NDCG = "mean_ndcg@10"


def metric_key(dim: int, metric: str = PRIMARY_METRIC) -> str:
    return f"dim_{dim}_{metric}"


def selection_key(best_dim: int | None) -> str:
    """The evaluator's metric that picks checkpoints, rates and the base-or-finetuned verdict."""
    return metric_key(best_dim) if best_dim is not None else MEAN_NDCG


def selection_score(evaluation: RetrievalEvaluation, best_dim: int | None) -> float:
    """The selection metric of one evaluation (see MEAN_NDCG)."""
    if best_dim is not None:
        return evaluation.by_dim[best_dim].metrics[PRIMARY_METRIC]
    return mean_ndcg(evaluation)


def mean_ndcg(evaluation: RetrievalEvaluation) -> float:
    return sum(evaluation.by_dim[d].metrics[PRIMARY_METRIC] for d in evaluation.dims) / len(
        evaluation.dims
    )


def describe_selection_metric(best_dim: int | None, dims: list[int]) -> str:
    if best_dim is not None:
        return f"ndcg@10@{best_dim}"
    return f"mean ndcg@10 over dims {','.join(map(str, dims))}"


class MatryoshkaRetrievalEvaluator(BaseEvaluator):
    """Reports `<name>_dim_<d>_<metric>` for every dimension and `<name>_mean_ndcg@10`;
    primary: `selection_key(best_dim)`. Scores with the run's `RetrievalEvaluator`, so
    checkpoints, the base and the test queries are measured with the same search."""

    def __init__(
        self,
        data: RetrievalData,
        evaluator: RetrievalEvaluator,
        *,
        best_dim: int | None,
        name: str = "retrieval",
    ) -> None:
        super().__init__()
        self.data, self.evaluator, self.name = data, evaluator, name
        # Sentence Transformers prefixes primary_metric with the name after the first call
        self.selection_metric = self.primary_metric = selection_key(best_dim)

    def __call__(
        self, model, output_path=None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        # A bar inside the training bar, gone when done; on a terminal only: a nested bar
        # moves the cursor up with an escape code, which a log file or pipe would keep.
        with transient_bars():
            evaluation = self.evaluator.evaluate(
                model, self.data, show_progress_bar=sys.stderr.isatty(), label=VALIDATION
            )
        metrics = {
            metric_key(dim, name): value
            for dim, result in evaluation.by_dim.items()
            for name, value in result.metrics.items()
        }
        metrics[MEAN_NDCG] = mean_ndcg(evaluation)
        logger.info(
            "Validation at step %d: %s %.4f",
            steps,
            self.selection_metric,
            metrics[self.selection_metric],
        )
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics
