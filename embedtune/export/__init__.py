"""Export a Sentence Transformers model to ONNX or OpenVINO (float32 or int8), load the export
without optimum, and check it scores and runs as promised.

    from embedtune.export import export_model, load_exported
    export_model("out/model", "onnx", "int8", "out/model-onnx-int8")
    encoder = load_exported("out/model-onnx-int8")
    encoder.encode_query(["..."])
"""

from embedtune.export.export import export_model
from embedtune.export.formats import EXPORT_RECORD, FORMATS, PRECISIONS, target_from_name
from embedtune.export.loader import ExportedEncoder, load_exported

__all__ = [
    "EXPORT_RECORD",
    "FORMATS",
    "PRECISIONS",
    "ExportedEncoder",
    "export_model",
    "load_exported",
    "target_from_name",
]
