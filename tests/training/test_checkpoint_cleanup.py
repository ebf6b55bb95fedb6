"""A finished run removes its checkpoints (weights + optimizer state) and keeps the small files."""

from __future__ import annotations

from embedtune.training.checkpoint_cleanup import remove_checkpoints


def test_removes_checkpoint_folders_and_keeps_the_run_record_evaluations_and_adapter(tmp_path):
    root = tmp_path / "checkpoints"
    for folder in ("checkpoint-2", "lr-5e-05/checkpoint-4", "lr-0.0002/checkpoint-6"):
        (root / folder).mkdir(parents=True)
        (root / folder / "optimizer.pt").write_bytes(b"x" * 1000)
    kept = [
        root / "embedtune_run.json",
        root / "lr-5e-05" / "eval" / "scores.csv",
        root / "adapter" / "adapter_model.safetensors",
    ]
    for path in kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")

    assert remove_checkpoints(root) == 3000
    assert not list(root.glob("**/checkpoint-*"))
    assert all(path.is_file() for path in kept)
    assert remove_checkpoints(root) == 0  # nothing left to remove
    assert remove_checkpoints(tmp_path / "missing") == 0
