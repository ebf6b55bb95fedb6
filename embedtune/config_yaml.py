"""configs/embeddings.yaml, rendered from FinetuneConfig's fields (their defaults, help and None
meanings: embedtune/settings.py), so the file cannot drift from the dataclass.

    python -m embedtune.config_yaml > configs/embeddings.yaml

tests/test_config_drift.py fails when the committed file differs from this rendering.
"""

from __future__ import annotations

import textwrap

import yaml

from embedtune.config import FinetuneConfig
from embedtune.settings import settings_of

HEADER = """\
# Settings of `python run.py --embeddings` and `make run` (and `embedtune finetune --config
# configs/embeddings.yaml`). Every field of embedtune.config.FinetuneConfig is listed here with
# its default, so this file, `embedtune finetune` with no flags and
# `run_finetune(load_config())` run the same job. Rendered from the dataclass
# (python -m embedtune.config_yaml > configs/embeddings.yaml); tests/test_config_drift.py fails
# when they differ. Change a value here to change the job; flags override this file. `null`
# means what its comment says. Only `extra` has no command-line flag.
"""


def _value(name: str, value: object) -> str:
    return yaml.safe_dump({name: value}, default_flow_style=True, width=1000).strip()[1:-1]


def render_config_yaml() -> str:
    """The YAML text: a section per group (in the dataclass's order), each setting's help and
    what null means as comments above it."""
    from embedtune.cli_flags import field_defaults

    defaults = field_defaults()
    lines = [HEADER.rstrip("\n")]
    group = None
    for info in settings_of(FinetuneConfig):
        if info.group != group:
            group = info.group
            lines += ["", f"# --- {group} ---"]
        note = info.help
        if info.none_means:
            note += f" (null: {info.none_means})"
        if info.yaml_only:
            note += f". YAML-only (no flag): {info.yaml_only}"
        lines += textwrap.wrap(
            note, width=96, initial_indent="# ", subsequent_indent="# ", break_on_hyphens=False
        )
        lines.append(_value(info.name, defaults[info.name]))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_config_yaml(), end="")
