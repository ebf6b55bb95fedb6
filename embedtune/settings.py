"""How a setting is described: once, on its `FinetuneConfig` field (`setting(...)`).

The command-line flags (embedtune/cli_flags.py), configs/embeddings.yaml (embedtune/config_yaml.py
renders it), `--resume`'s check of what shapes training (embedtune/training/resume_guard.py) and
the learning curve's flags (embedtune/curve/cli.py) are all derived from these field metadata, so
a new setting is one field: its default, its help, its group, which commands take it, what None
means and whether it changes training.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

FINETUNE, EVALUATE = "finetune", "evaluate"
BOTH = (FINETUNE, EVALUATE)
_KEY = "embedtune"


@dataclass(frozen=True)
class SettingInfo:
    """What a field's metadata says about it (see `setting`)."""

    name: str
    help: str
    group: str
    commands: tuple[str, ...] = (FINETUNE,)  # () : YAML only (`yaml_only` says why)
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    none_means: str | None = None  # what a None value means (shown as the default)
    shapes_training: bool = False  # a different value trains a different model (--resume)
    curve: bool = True  # `embedtune curve` offers it (it keeps no model: no push, export, ...)
    yaml_only: str | None = None  # why the setting has no flag

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


def setting(
    default: Any = dataclasses.MISSING,
    help: str = "",  # noqa: A002 - the argparse word
    *,
    group: str,
    default_factory: Any = dataclasses.MISSING,
    commands: tuple[str, ...] = (FINETUNE,),
    metavar: str | None = None,
    choices: tuple[str, ...] | None = None,
    none_means: str | None = None,
    shapes_training: bool = False,
    curve: bool = True,
    yaml_only: str | None = None,
) -> Any:
    """A dataclass field with its description; see SettingInfo."""
    info = {
        "help": help,
        "group": group,
        "commands": () if yaml_only else tuple(commands),
        "metavar": metavar,
        "choices": tuple(choices) if choices else None,
        "none_means": none_means,
        "shapes_training": shapes_training,
        "curve": curve,
        "yaml_only": yaml_only,
    }
    return dataclasses.field(
        default=default, default_factory=default_factory, metadata={_KEY: info}
    )


def settings_of(cls: type) -> tuple[SettingInfo, ...]:
    """Every field's SettingInfo, in the dataclass's order."""
    found = []
    for item in dataclasses.fields(cls):
        if _KEY not in item.metadata:
            raise TypeError(f"{cls.__name__}.{item.name} is not declared with setting(...)")
        found.append(SettingInfo(item.name, **item.metadata[_KEY]))
    return tuple(found)
