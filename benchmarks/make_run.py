"""How long `make run` (the default job on the built-in data, as a ZenML pipeline) takes here.

Runs `make run` with an installed venv, times it, and records the run's gains with their
intervals from outputs/embedtune/results.json, the phase timings and the load average, in
benchmarks/results/make_run.json. Run alone on the machine.

    .venv/bin/python benchmarks/make_run.py
"""

from __future__ import annotations

import json
import subprocess
import time

from common import REPO, load, say, write_result


def main() -> None:
    before = load()
    say(f"make run (load {before})")
    started = time.perf_counter()
    done = subprocess.run(["make", "run"], cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"make run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    results = json.loads((REPO / "outputs" / "embedtune" / "results.json").read_text("utf-8"))
    gains = {
        dim: {
            "base": round(results["base"][dim]["ndcg@10"], 4),
            "finetuned": round(results["finetuned"][dim]["ndcg@10"], 4),
            "gain": round(entry["ndcg@10_delta"], 4),
            "ci95": [round(x, 4) for x in entry["ci95"]],
            "significant": entry["significant"],
        }
        for dim, entry in results["comparison"].items()
    }
    write_result(
        "make_run",
        {
            "seconds": round(seconds, 1),
            "load_before": before,
            "load_after": load(),
            "selected": results["selection"]["selected"],
            "learning_rate": results["training"]["learning_rate"],
            "learning_rate_sweep": results["training"].get("learning_rate_sweep"),
            "max_seq_length": results["training"]["max_seq_length"],
            "data": results["data"],
            "gains": gains,
            "timings": results.get("timings"),
        },
    )
    say(f"make run: {seconds:.0f}s; gains {gains}")


if __name__ == "__main__":
    main()
