"""--resume on a tampered checkpoint (issue 19, item 10): a state file that is a pickle of
arbitrary objects runs nothing and is refused by name (exit 2), not an UnpicklingError
traceback. Real checkpoints of a tiny run are accepted."""

from __future__ import annotations

import pickle

import pytest
import yaml

from embedtune.checkpoint_files import check_checkpoint_files
from embedtune.cli import main
from tests.helpers import TINY_RUN


class Payload:
    """Unpickling this runs `touch MARKER`: what weights_only must never do."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


@pytest.mark.slow
def test_a_tampered_checkpoint_is_refused_by_name(tmp_path, capsys, base_model_path):
    out = tmp_path / "out"
    config = tmp_path / "tiny.yaml"
    settings = {**TINY_RUN, "base_model": base_model_path, "keep_checkpoints": True}
    config.write_text(yaml.safe_dump(settings))
    args = ["finetune", "--config", str(config), "--output", str(out)]
    assert main(args) == 0, capsys.readouterr().err
    capsys.readouterr()
    checkpoints = out / "checkpoints"
    folders = sorted(checkpoints.glob("**/checkpoint-*"))
    assert folders and all((f / "optimizer.pt").is_file() for f in folders)
    check_checkpoint_files(checkpoints)  # the real files load safely

    marker = tmp_path / "PWNED"
    for name in ("scheduler.pt", "rng_state.pth"):
        target = folders[-1] / name
        real = target.read_bytes()
        target.write_bytes(pickle.dumps(Payload(str(marker))))
        code = main([*args, "--resume"])
        err = capsys.readouterr().err
        assert code == 2, err
        assert f"{target} cannot be loaded safely" in err and "Traceback" not in err
        assert not marker.exists()
        target.write_bytes(real)
