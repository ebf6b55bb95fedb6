"""Per-epoch evaluation inside SentenceTransformerTrainer, reusing the one-encoding evaluator."""

from __future__ import annotations

from sentence_transformers.base.evaluation.evaluator import BaseEvaluator

from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.retrieval import RetrievalEvaluation, evaluate_retrieval

# What selection maximises unless --best-dim names one dim: nDCG@10 averaged over the trained
# Matryoshka dims, which is what the Matryoshka loss optimises (one dim alone let checkpoints
# that hurt the small dims win).
MEAN_NDCG = "mean_ndcg@10"


def metric_key(dim: int, metric: str = "ndcg@10") -> str:
    return f"dim_{dim}_{metric}"


def selection_key(best_dim: int | None) -> str:
    """The evaluator's metric that picks checkpoints, rates and the base-or-finetuned verdict."""
    return metric_key(best_dim) if best_dim is not None else MEAN_NDCG


def selection_score(evaluation: RetrievalEvaluation, best_dim: int | None) -> float:
    """The selection metric of one evaluation (see MEAN_NDCG)."""
    if best_dim is not None:
        return evaluation.by_dim[best_dim].metrics["ndcg@10"]
    return mean_ndcg(evaluation)


def mean_ndcg(evaluation: RetrievalEvaluation) -> float:
    return sum(evaluation.by_dim[d].metrics["ndcg@10"] for d in evaluation.dims) / len(
        evaluation.dims
    )


def describe_selection_metric(best_dim: int | None, dims: list[int]) -> str:
    if best_dim is not None:
        return f"ndcg@10@{best_dim}"
    return f"mean ndcg@10 over dims {','.join(map(str, dims))}"


class MatryoshkaRetrievalEvaluator(BaseEvaluator):
    """Reports `<name>_dim_<d>_<metric>` for every dimension and `<name>_mean_ndcg@10`;
    primary: `selection_key(best_dim)`. `index` and `ignore_identical_ids` as for the test
    evaluation, so checkpoints and the base are scored with the same search."""

    def __init__(
        self,
        data: RetrievalData,
        dims: list[int],
        *,
        best_dim: int | None,
        name: str = "retrieval",
        query_prompt: str | None = None,
        document_prompt: str | None = None,
        batch_size: int = 64,
        index: str = "auto",
        ignore_identical_ids: bool = False,
    ) -> None:
        super().__init__()
        self.data, self.dims, self.name = data, dims, name
        self.query_prompt, self.document_prompt, self.batch_size = (
            query_prompt,
            document_prompt,
            batch_size,
        )
        self.index, self.ignore_identical_ids = index, ignore_identical_ids
        self.primary_metric = selection_key(best_dim)

    def __call__(
        self, model, output_path=None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        evaluation = evaluate_retrieval(
            model,
            self.data,
            self.dims,
            query_prompt=self.query_prompt,
            document_prompt=self.document_prompt,
            batch_size=self.batch_size,
            index=self.index,
            ignore_identical_ids=self.ignore_identical_ids,
        )
        metrics = {
            metric_key(dim, name): value
            for dim, result in evaluation.by_dim.items()
            for name, value in result.metrics.items()
        }
        metrics[MEAN_NDCG] = mean_ndcg(evaluation)
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics
