"""A folder of files as an artifact (the exported model, OUTPUT/model-<format>): its files are
copied into the artifact store, so the folder outlives the container of a remote step."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from zenml.enums import ArtifactType
from zenml.materializers.base_materializer import BaseMaterializer
from zenml.utils import io_utils

FOLDER_DIR = "folder"


@dataclass
class ModelFolder:
    """A folder on this machine's disk; `name` is its name in OUTPUT (e.g. model-onnx)."""

    path: Path
    name: str


class ModelFolderMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (ModelFolder,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.MODEL

    def load(self, data_type: type[Any]) -> ModelFolder:
        with self.artifact_store.open(os.path.join(self.uri, "name.txt"), "r") as handle:
            name = handle.read().strip()
        # The copy must outlive this call: the caller copies or loads it afterwards.
        with self.get_temporary_directory(delete_at_exit=False) as temp_dir:
            io_utils.copy_dir(os.path.join(self.uri, FOLDER_DIR), temp_dir)
            return ModelFolder(Path(temp_dir), name)

    def save(self, folder: ModelFolder) -> None:
        if not Path(folder.path).is_dir():
            raise FileNotFoundError(f"{folder.path}: no such folder to store as an artifact")
        io_utils.copy_dir(str(folder.path), os.path.join(self.uri, FOLDER_DIR))
        with self.artifact_store.open(os.path.join(self.uri, "name.txt"), "w") as handle:
            handle.write(folder.name)

    def extract_metadata(self, folder: ModelFolder) -> dict[str, Any]:
        files = [p for p in Path(folder.path).rglob("*") if p.is_file()]
        return {
            "name": folder.name,
            "files": len(files),
            "bytes": sum(p.stat().st_size for p in files),
        }
