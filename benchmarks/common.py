"""Shared bits of the benchmarks: paths, quiet logging, machine load, JSON output."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
LEGAL = SHARED_DATA / "legal_rag_synthetic"
RESULTS = REPO / "benchmarks" / "results"


def quiet() -> None:
    """Only warnings from libraries; progress bars off."""
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ["TQDM_DISABLE"] = "1"
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:
        pass
    try:
        import datasets

        datasets.disable_progress_bars()
    except ImportError:
        pass


def say(*parts: Any) -> None:
    print(time.strftime("%H:%M:%S"), *parts, flush=True)


def machine() -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cuda": torch.cuda.is_available(),
        "python": platform.python_version(),
    }
    try:
        import psutil

        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    return info


def load() -> list[float]:
    """1, 5 and 15-minute load averages (the CPU is shared: other work skews timings)."""
    return [round(x, 2) for x in os.getloadavg()]


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine(),
        **payload,
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    say(f"wrote {path.relative_to(REPO)}")
    return path


def print_ndcg_tables(
    dims: list[int], ndcg: dict[str, dict[str, float]], comparisons: dict[str, dict[str, Any]]
) -> None:
    """nDCG@10 per recipe and dim, then each comparison's gain with its 95% interval."""
    print(f"{'nDCG@10':<14}" + "".join(f"{d:>10}" for d in dims))
    for name, values in ndcg.items():
        print(f"{name:<14}" + "".join(f"{values[str(d)]:>10.4f}" for d in dims))
    for label, comparison in comparisons.items():
        print(f"\n{label}: gain [95% interval]")
        for d in dims:
            entry = comparison[str(d)]
            low, high = entry["ci95"]
            mark = " *" if entry["significant"] else ""
            print(f"  {d:>4} dims {entry['ndcg@10_delta']:+.4f} [{low:+.4f}, {high:+.4f}]{mark}")
