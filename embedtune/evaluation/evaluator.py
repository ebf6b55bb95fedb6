"""`RetrievalEvaluator`: how a run scores retrieval, decided once.

Dims, prompts, batch size, corpus search (`index`) and the identical-id rule are fixed when the
run's config is read (`RetrievalEvaluator.from_config`); the test evaluation, the validation
corpus, the checkpoints inside the trainer, the guard, merging and the export's re-score all
score through the same object, so no two of them can measure with different settings (before
this object, the export re-score and the checkpoints searched with the default index while the
test evaluation used `--index`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.retrieval import (
    EncodedTask,
    RetrievalEvaluation,
    encode_task,
    evaluate_retrieval,
)

if TYPE_CHECKING:
    from embedtune.config import FinetuneConfig


@dataclass(frozen=True)
class RetrievalEvaluator:
    """Query -> document retrieval at every Matryoshka dim from one encoding per model."""

    dims: tuple[int, ...]
    query_prompt: str | None = None
    document_prompt: str | None = None
    batch_size: int = 64
    index: str = "auto"
    # BEIR/MTEB's rule for sets whose queries are corpus documents (ArguAna)
    ignore_identical_ids: bool = False

    @classmethod
    def from_config(cls, config: FinetuneConfig) -> RetrievalEvaluator:
        return cls(
            dims=tuple(config.dims),
            query_prompt=config.query_prompt,
            document_prompt=config.document_prompt,
            batch_size=config.eval_batch_size,
            index=config.index,
            ignore_identical_ids=config.ignore_identical_ids,
        )

    def with_dims(self, dims: list[int] | tuple[int, ...]) -> RetrievalEvaluator:
        """The same evaluator at other dims (another model's dimension)."""
        return dataclasses.replace(self, dims=tuple(dims))

    def encode(
        self,
        model: Any,
        data: RetrievalData,
        *,
        show_progress_bar: bool = True,
        label: str | None = None,
    ) -> EncodedTask:
        """`model`'s encoding of `data`'s queries and corpus at full dim (reusable: baselines,
        deployment matrix, mining's pool). `model`: a SentenceTransformer or anything that
        encodes like one (an exported ONNX/OpenVINO folder). `label`: what the progress bar
        calls the model ("base model")."""
        return encode_task(
            model,
            data,
            query_prompt=self.query_prompt,
            document_prompt=self.document_prompt,
            batch_size=self.batch_size,
            show_progress_bar=show_progress_bar,
            label=label,
        )

    def evaluate(
        self,
        model: Any,
        data: RetrievalData,
        *,
        encoded: EncodedTask | None = None,
        show_progress_bar: bool = False,
        label: str | None = None,
    ) -> RetrievalEvaluation:
        """`model` on `data`'s test queries at every dim; `encoded`: its encoding of `data`,
        used instead of encoding again (`model` may then be None)."""
        return evaluate_retrieval(
            model,
            data,
            list(self.dims),
            query_prompt=self.query_prompt,
            document_prompt=self.document_prompt,
            batch_size=self.batch_size,
            show_progress_bar=show_progress_bar,
            ignore_identical_ids=self.ignore_identical_ids,
            encoded=encoded,
            index=self.index,
            label=label,
        )

    def evaluate_and_encode(
        self, model: Any, data: RetrievalData, *, label: str | None = None
    ) -> tuple[RetrievalEvaluation, EncodedTask]:
        """One encoding (with its progress bar, "Encoding N documents (`label`)"), scored: the
        evaluation and the encoding."""
        encoded = self.encode(model, data, label=label)
        return self.evaluate(None, data, encoded=encoded), encoded
