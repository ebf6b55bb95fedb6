"""The settings travel between ZenML steps as `to_dict` (exact values), not as the display form."""

from __future__ import annotations

from embedtune.config import FinetuneConfig, load_config
from embedtune.pipelines.transport import transport_dict


def test_a_config_rebuilt_from_its_transport_form_is_the_same(tmp_path):
    config = load_config(
        dims=[384, 128],
        learning_rate="1e-5,3e-5",
        extra={"max_grad_norm": 0.5},
        output=str(tmp_path),
    )
    assert FinetuneConfig(**transport_dict(config)) == config
    assert transport_dict(config) == config.to_dict()
