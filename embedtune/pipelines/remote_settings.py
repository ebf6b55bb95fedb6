"""What the pipeline `finetune_embeddings` needs on a remote ZenML stack, from `configs/remote.yaml`.

A remote orchestrator (Kubernetes, SageMaker, Vertex, ...) runs each step in a container built
from ZenML's ``DockerSettings``; a step operator (SageMaker, Vertex AI, SkyPilot, Kubernetes)
runs a single step on other hardware; ``ResourceSettings`` ask for GPUs, CPUs and memory. This
module turns a small YAML file into those settings:

- ``DockerSettings`` on the pipeline: the project's own runtime requirements (pyproject.toml's
  dependencies and the chosen extras, pinned to the versions of constraints.txt), an optional
  parent image (e.g. a CUDA image with PyTorch), apt packages, and non-secret environment
  variables (secrets belong in ZenML secrets or the cluster's own secret store, never here);
- ``ResourceSettings`` (GPUs, memory, CPUs) on the steps that encode or train: the finetune
  step and the two evaluation steps;
- the step operator, by name, on the finetune step (and, unless told otherwise, the evaluation
  steps).

The local orchestrator ignores Docker and resource settings, so the same run works on a laptop.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from embedtune.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
FINETUNE_STEP = "finetune_model"
EVALUATION_STEPS = ("evaluate_base_model", "evaluate_finetuned_model")
INSTALLERS = ("pip", "uv")
SECRET_NAME = re.compile(
    r"(^|_)(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|AUTH)(_|$)", re.IGNORECASE
)


@dataclasses.dataclass
class RemoteSettings:
    """The settings of `configs/remote.yaml` (every key optional)."""

    step_operator: str | None = None  # a step operator of the active stack, by name
    step_operator_on_evaluation: bool = True  # the evaluation steps run there too
    gpus: int = 0  # GPUs for the finetune and evaluation steps
    memory: str | None = None  # e.g. "32GB" (ZenML's units: KB, KiB, MB, MiB, GB, GiB, ...)
    cpu_count: float | None = None
    parent_image: str | None = None  # e.g. a CUDA PyTorch image; None: ZenML's own image
    extras: list[str] = dataclasses.field(default_factory=list)  # embedtune extras to install
    python_package_installer: str = "pip"  # or "uv"
    apt_packages: list[str] = dataclasses.field(default_factory=list)
    environment: dict[str, str] = dataclasses.field(default_factory=dict)  # no secrets

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Refuse what ZenML would refuse at run time (or never notice), naming the key."""
        if self.step_operator is not None and (
            not isinstance(self.step_operator, str) or not self.step_operator.strip()
        ):
            raise ConfigError("step_operator must be the name of a step operator")
        if isinstance(self.gpus, bool) or not isinstance(self.gpus, int) or self.gpus < 0:
            raise ConfigError(f"gpus must be a whole number >= 0, got {self.gpus!r}")
        if self.cpu_count is not None and (
            isinstance(self.cpu_count, bool)
            or not isinstance(self.cpu_count, (int, float))
            or self.cpu_count <= 0
        ):
            raise ConfigError(f"cpu_count must be a number > 0, got {self.cpu_count!r}")
        if self.memory is not None:
            from zenml.config.resource_settings import MEMORY_REGEX

            if not isinstance(self.memory, str) or not re.match(MEMORY_REGEX, self.memory):
                raise ConfigError(
                    f"memory must be a number and a unit such as 32GB or 16GiB, got {self.memory!r}"
                )
        if self.python_package_installer not in INSTALLERS:
            raise ConfigError(
                f"python_package_installer must be one of {', '.join(INSTALLERS)}, "
                f"got {self.python_package_installer!r}"
            )
        for name, value in (("extras", self.extras), ("apt_packages", self.apt_packages)):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{name} must be a list of names")
        known = project_extras()
        unknown = sorted(set(self.extras) - set(known))
        if unknown:
            raise ConfigError(
                f"extras {unknown} are not extras of embedtune (choose from "
                f"{', '.join(sorted(known))})"
            )
        if not isinstance(self.environment, dict):
            raise ConfigError("environment must be a mapping of NAME: value")
        secret = sorted(k for k in self.environment if SECRET_NAME.search(str(k)))
        if secret:
            raise ConfigError(
                f"environment {secret} look like secrets; settings are stored with the "
                "run in plain text: put secrets in a ZenML secret or the cluster's secret store"
            )


def load_remote_settings(path: str | Path) -> RemoteSettings:
    """Read `configs/remote.yaml`; unknown keys and bad values are errors naming the file."""
    import yaml

    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except OSError as err:
        raise ConfigError(f"--remote-config {file}: cannot read it: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"--remote-config {file}: not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"--remote-config {file}: expected a mapping of settings")
    names = {f.name for f in dataclasses.fields(RemoteSettings)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(
            f"--remote-config {file}: unknown keys {unknown}; known: {', '.join(sorted(names))}"
        )
    given = {k: v for k, v in data.items() if v is not None}  # null: the default
    try:
        return RemoteSettings(**given)
    except ConfigError as err:
        raise ConfigError(f"--remote-config {file}: {err}") from None


def _declared() -> tuple[list[str], dict[str, list[str]]]:
    """(dependencies, extra -> its dependencies): from the checkout's pyproject.toml, or else
    from the installed package's metadata."""
    pyproject = REPO_ROOT / "pyproject.toml"
    if pyproject.is_file():
        try:
            import tomllib
        except ImportError:  # Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]

        with open(pyproject, "rb") as handle:
            project = tomllib.load(handle)["project"]
        return list(project["dependencies"]), dict(project.get("optional-dependencies", {}))
    from importlib.metadata import metadata, requires

    from packaging.requirements import Requirement

    dependencies: list[str] = []
    extras: dict[str, list[str]] = {
        e: [] for e in metadata("embedtune").get_all("Provides-Extra") or []
    }
    for text in requires("embedtune") or []:
        requirement = Requirement(text)
        marker = str(requirement.marker or "")
        extra = re.search(r'extra == "([^"]+)"', marker)
        requirement.marker = None
        if extra:
            extras.setdefault(extra.group(1), []).append(str(requirement))
        else:
            dependencies.append(str(requirement))
    return dependencies, extras


def project_extras() -> dict[str, list[str]]:
    return _declared()[1]


def pinned_versions() -> dict[str, str]:
    """Package name (normalised) -> exact version, from constraints.txt."""
    from packaging.utils import canonicalize_name

    pins = {}
    path = REPO_ROOT / "constraints.txt"
    if not path.is_file():
        return pins
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name.split("[", 1)[0])] = version.strip()
    return pins


def project_requirements(extras: list[str], *, unpinned: tuple[str, ...] = ()) -> list[str]:
    """pyproject.toml's dependencies (and those of `extras`), each pinned to its constraints.txt
    version where there is one (the versions the tests ran with), else its own range; the
    `unpinned` packages keep their range (a parent image's own CUDA build of torch stays)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    dependencies, extra_dependencies = _declared()
    wanted = list(dependencies)
    for extra in extras:
        wanted += extra_dependencies.get(extra, [])
    pins = pinned_versions()
    requirements = []
    for text in wanted:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        pin = None if name in unpinned else pins.get(name)
        extras_part = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        marker = f"; {requirement.marker}" if requirement.marker else ""
        version = f"=={pin}" if pin else str(requirement.specifier)
        requirements.append(f"{requirement.name}{extras_part}{version}{marker}")
    return list(dict.fromkeys(requirements))


def docker_settings(remote: RemoteSettings) -> Any:
    from zenml.config import DockerSettings

    options: dict[str, Any] = {
        # A parent image (a CUDA PyTorch image) brings its own torch build: keep it when it
        # is in the supported range rather than replacing it with the pinned wheel.
        "requirements": project_requirements(
            remote.extras, unpinned=("torch",) if remote.parent_image else ()
        ),
        "python_package_installer": remote.python_package_installer,
        "apt_packages": list(remote.apt_packages),
        "environment": {str(k): str(v) for k, v in remote.environment.items()},
    }
    if remote.parent_image:
        options["parent_image"] = remote.parent_image
    return DockerSettings(**options)


def resource_settings(remote: RemoteSettings) -> Any | None:
    """ResourceSettings with what was asked for; None when nothing was (so that a step
    operator which picks its hardware otherwise, like SageMaker's instance type, has nothing
    to warn about)."""
    from zenml.config import ResourceSettings

    options: dict[str, Any] = {}
    if remote.gpus:
        options["gpu_count"] = remote.gpus
    if remote.memory:
        options["memory"] = remote.memory
    if remote.cpu_count is not None:
        options["cpu_count"] = remote.cpu_count
    return ResourceSettings(**options) if options else None


def step_configurations(remote: RemoteSettings) -> dict[str, dict[str, Any]]:
    """Per step that trains or encodes: ResourceSettings, and the step operator where it
    applies."""
    resources = resource_settings(remote)
    configurations: dict[str, dict[str, Any]] = {}
    for step in (FINETUNE_STEP, *EVALUATION_STEPS):
        configuration: dict[str, Any] = {}
        if resources is not None:
            configuration["settings"] = {"resources": resources}
        if remote.step_operator and (step == FINETUNE_STEP or remote.step_operator_on_evaluation):
            configuration["step_operator"] = remote.step_operator
        if configuration:
            configurations[step] = configuration
    return configurations


def apply_remote_settings(pipeline: Any, remote: RemoteSettings) -> Any:
    """A copy of `pipeline` with the Docker settings, step resources and step operator."""
    return pipeline.with_options(
        settings={"docker": docker_settings(remote)},
        step_configurations=step_configurations(remote),
    )


def remote_settings_from_args(args: Any) -> RemoteSettings | None:
    """`--remote-config YAML` of `embedtune finetune`: read and checked before any work; it
    only means something for a ZenML run, so it needs --pipeline."""
    path = getattr(args, "remote_config", None)
    if not path:
        return None
    if not getattr(args, "pipeline", False):
        raise ConfigError(f"--remote-config {path} configures a ZenML stack run: add --pipeline")
    return load_remote_settings(path)
