"""Store SentenceTransformer artifacts as a saved model folder (safetensors), never a pickle."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from sentence_transformers import SentenceTransformer
from zenml.enums import ArtifactType
from zenml.materializers.base_materializer import BaseMaterializer
from zenml.utils import io_utils

MODEL_DIR = "sentence_transformer"


class SentenceTransformerMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (SentenceTransformer,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.MODEL

    def load(self, data_type: type[Any]) -> SentenceTransformer:
        from embedtune.training.model_loading import load_model

        # The folder must outlive this call: the model's tokenizer files are read lazily.
        with self.get_temporary_directory(delete_at_exit=False) as temp_dir:
            io_utils.copy_dir(os.path.join(self.uri, MODEL_DIR), temp_dir)
            return load_model(temp_dir)

    def save(self, model: SentenceTransformer) -> None:
        with self.get_temporary_directory(delete_at_exit=True) as temp_dir:
            model.save_pretrained(temp_dir, safe_serialization=True)
            io_utils.copy_dir(temp_dir, os.path.join(self.uri, MODEL_DIR))

    def extract_metadata(self, model: SentenceTransformer) -> dict[str, Any]:
        from embedtune.training.model_loading import embedding_dimension

        return {
            "embedding_dimension": embedding_dimension(model),
            "max_seq_length": int(model.max_seq_length),
            "similarity": str(model.similarity_fn_name),
        }
