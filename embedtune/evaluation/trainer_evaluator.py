"""Per-epoch evaluation inside SentenceTransformerTrainer, reusing the one-encoding evaluator."""

from __future__ import annotations

from sentence_transformers.base.evaluation.evaluator import BaseEvaluator

from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.retrieval import evaluate_retrieval


def metric_key(dim: int, metric: str = "ndcg@10") -> str:
    return f"dim_{dim}_{metric}"


class MatryoshkaRetrievalEvaluator(BaseEvaluator):
    """Reports `<name>_dim_<d>_<metric>` for every dimension; primary: nDCG@10 at `best_dim`."""

    def __init__(
        self,
        data: RetrievalData,
        dims: list[int],
        *,
        best_dim: int,
        name: str = "retrieval",
        query_prompt: str | None = None,
        document_prompt: str | None = None,
        batch_size: int = 64,
    ) -> None:
        super().__init__()
        self.data, self.dims, self.name = data, dims, name
        self.query_prompt, self.document_prompt, self.batch_size = (
            query_prompt,
            document_prompt,
            batch_size,
        )
        self.primary_metric = metric_key(best_dim)

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
        )
        metrics = {
            metric_key(dim, name): value
            for dim, result in evaluation.by_dim.items()
            for name, value in result.metrics.items()
        }
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics
