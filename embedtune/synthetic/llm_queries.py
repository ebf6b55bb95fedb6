"""(query, hard-negative query) pairs per chunk from an LLM, with distilabel.

Each chunk is the anchor of distilabel's ``GenerateSentencePair(triplet=True, action="query")``:
its ``positive`` (a query the chunk answers) becomes ``query`` and its ``negative`` (a
similar-looking query the chunk does not answer) becomes ``negative_query``. Chunks whose
output can't be parsed into two distinct one-line queries are dropped and counted.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from embedtune.errors import ConfigError, ServiceError
from embedtune.synthetic.chunking import Chunk
from embedtune.synthetic.llm import (
    DEFAULT_CONCURRENCY,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    LlmSpec,
    build_llm,
    describe_llm,
    parse_llm_spec,
    redact_url,
)
from embedtune.synthetic.progress import GenerateProgress

logger = logging.getLogger(__name__)

TASK_NAME = "embedtune_generate_queries"
MAX_QUERY_CHARS = 400

# Appended to the context for local models (usually small): an example of the output format.
# Large endpoint models follow distilabel's instructions without it.
FORMAT_EXAMPLE = ("How do I reset my password?", "How do I reset my router?")
FORMAT_HINT = (
    "Write each sentence as a short question on one line, like:\n"
    f"## Positive\n{FORMAT_EXAMPLE[0]}\n## Negative\n{FORMAT_EXAMPLE[1]}"
)

# Lenient fallback for outputs distilabel's `## Positive ... ## Negative` regex misses:
# "Positive: ...", "**Negative query:** ...", "### Positive" on its own line, ...
_LABEL = re.compile(
    r"^[\s#*>_\-]*(positive|negative)(?:[ \t]+(?:sentence|query|question))?[ \t*_]*"
    r"(?::[ \t*_]*(.*?))?[ \t*_]*$",
    re.IGNORECASE,
)
_LEADING_JUNK = re.compile(r"^(?:[-*>•]+\s*|\d+[.)]\s+|(?:query|question|q)\s*:\s*)+", re.I)
_QUOTES = "\"'`“”‘’"


def generate_llm_examples(
    chunks: Sequence[Chunk],
    llm_spec: str | LlmSpec | Any,
    *,
    context: str = "",
    batch_size: int = 8,
    max_new_tokens: int = 256,
    temperature: float | None = None,
    hard_negative: bool = True,
    format_hint: bool | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: GenerateProgress | None = None,
    ray_cache: Path | None = None,
) -> list[dict]:
    """Generate a query and a hard-negative query for each chunk with an LLM.

    Args:
        chunks: the chunks to generate for (each is sent to the LLM: scan them for PII first).
        llm_spec: ``openai:MODEL`` or ``hf:PATH_OR_ID[:GGUF_FILE]`` (see
            :mod:`embedtune.synthetic.llm`), or an already built distilabel ``LLM``.
        context: what the documents are about, e.g. "Internal runbooks of the payments
            team"; passed to the prompt to steer the queries.
        batch_size: chunks per call of a local model (with ``ray_cache``: per call of each
            Ray replica).
        max_new_tokens: the most tokens generated per chunk.
        temperature: sampling temperature (default: 0.7 for endpoints, greedy locally).
        hard_negative: ask for negatives that look like the query (else merely unrelated).
        format_hint: add an example of the output format to the context; default: only for
            local ``hf:`` models (small models need it, large ones don't).
        timeout, retries: seconds to wait for one answer of an endpoint, and how often a
            request that timed out or failed is tried again (a built LLM keeps its own; the
            OpenAI client waits with exponential backoff between tries).
        concurrency: requests in flight at once to an endpoint (each group of this many
            chunks is sent together and saved before the next; with ``ray_cache``: Ray
            replicas of the task).
        progress: finished chunks are skipped and each batch is added to it once answered
            (see :mod:`embedtune.synthetic.progress`).
        ray_cache: run the chunks left to do with distilabel's Ray runner, with this cache
            folder (:mod:`embedtune.synthetic.ray_runner`).

    Returns:
        ``{"chunk_id", "query", "negative_query"}`` dicts, in chunk order, for the chunks
        whose output could be parsed; the number dropped is logged as a warning.

    Raises:
        ConfigError: bad spec, missing packages or a model that can't be loaded.
        ServiceError: the endpoint can't be reached, refuses the requests or never answers.
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
    if concurrency < 1:
        raise ConfigError(f"concurrency must be at least 1, got {concurrency}")
    if not chunks:
        return []
    finished: dict[str, dict] = progress.done if progress is not None else {}
    todo = [chunk for chunk in chunks if chunk.id not in finished]
    if todo:
        llm, description, local = _resolve_llm(
            llm_spec, max_new_tokens, temperature, timeout=timeout, retries=retries
        )
        if format_hint if format_hint is not None else local:
            context = f"{context.strip()}\n\n{FORMAT_HINT}" if context.strip() else FORMAT_HINT
        logger.info(
            "Generating queries for %d chunks (%d done before) with %s",
            len(todo),
            len(chunks) - len(todo),
            description,
        )
        save = progress.append if progress is not None else _remember(finished)
        if ray_cache is not None:
            _generate_with_ray(
                llm, todo, context, hard_negative, batch_size, concurrency, ray_cache, save
            )
        else:
            _generate_standalone(
                llm,
                todo,
                len(chunks),
                context,
                hard_negative,
                description,
                save,
                batch_size=batch_size,
                concurrency=concurrency,
            )
    examples = _examples(chunks, finished)
    logger.info("LLM generated query pairs for %d of %d chunks", len(examples), len(chunks))
    return examples


def _remember(finished: dict[str, dict]) -> Callable[[list[dict]], None]:
    def save(records: list[dict]) -> None:
        finished.update((r["chunk_id"], r) for r in records)

    return save


def _generate_standalone(
    llm: Any,
    todo: Sequence[Chunk],
    total: int,
    context: str,
    hard_negative: bool,
    description: str,
    save: Callable[[list[dict]], None],
    *,
    batch_size: int,
    concurrency: int,
) -> None:
    """The task run in this process, one group of chunks after the other: `concurrency`
    concurrent requests for an endpoint, `batch_size` chunks per call of a local model."""
    from distilabel.models.llms.base import AsyncLLM

    group = concurrency if isinstance(llm, AsyncLLM) else batch_size
    task = sentence_pair_task(llm, context, hard_negative, group)
    try:
        task.load()
    except (OSError, ValueError) as exc:
        raise ConfigError(f"could not load the LLM ({description}): {_first_line(exc)}") from exc
    try:
        _generate(task, todo, total, group, description, save)
    finally:
        try:
            task.unload()
        except Exception:  # noqa: BLE001 - unloading is best effort
            logger.debug("unloading the LLM failed", exc_info=True)


def _generate_with_ray(
    llm: Any,
    todo: Sequence[Chunk],
    context: str,
    hard_negative: bool,
    batch_size: int,
    replicas: int,
    cache_dir: Path,
    save: Callable[[list[dict]], None],
) -> None:
    from embedtune.synthetic.ray_runner import generate_rows_with_ray

    rows = generate_rows_with_ray(
        todo,
        llm,
        make_task=sentence_pair_task,
        task_name=TASK_NAME,
        context=context,
        hard_negative=hard_negative,
        batch_size=batch_size,
        replicas=replicas,
        cache_dir=cache_dir,
    )
    save([_record(chunk, rows.get(chunk.id, {})) for chunk in todo])


def _resolve_llm(
    llm_spec: str | LlmSpec | Any,
    max_new_tokens: int,
    temperature: float | None,
    *,
    timeout: int,
    retries: int,
) -> tuple[Any, str, bool]:
    """(distilabel LLM, log-safe description, whether it runs locally) for a spec or an LLM."""
    if not isinstance(llm_spec, (str, LlmSpec)):
        base_url = getattr(llm_spec, "base_url", None)
        where = f" at {redact_url(str(base_url))}" if base_url else ""
        return llm_spec, f"{type(llm_spec).__name__} {llm_spec.model_name}{where}", False
    spec = parse_llm_spec(llm_spec) if isinstance(llm_spec, str) else llm_spec
    llm = build_llm(
        spec,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        timeout=timeout,
        max_retries=retries,
    )
    return llm, describe_llm(spec), spec.backend == "hf"


def sentence_pair_task(
    llm: Any,
    context: str,
    hard_negative: bool,
    batch_size: int,
    *,
    name: str = TASK_NAME,
    **options: Any,
) -> Any:
    """distilabel's query task as embedtune runs it (`options`: e.g. Ray `resources`)."""
    from distilabel.steps.tasks import GenerateSentencePair

    with _quiet_standalone_step_warning():
        return GenerateSentencePair(
            name=name,
            triplet=True,
            action="query",
            hard_negative=hard_negative,
            context=context,
            llm=llm,
            input_batch_size=batch_size,
            add_raw_output=True,
            **options,
        )


def _generate(
    task: Any,
    todo: Sequence[Chunk],
    total: int,
    group: int,
    description: str,
    save: Callable[[list[dict]], None],
) -> None:
    """Send the chunks left to do group by group, saving each group once answered; one
    progress bar over all chunks (those done before count as done)."""
    from tqdm import tqdm

    done_before = total - len(todo)
    with tqdm(
        total=total, initial=done_before, desc="LLM queries", unit="chunk", file=sys.stderr
    ) as bar:
        for start in range(0, len(todo), group):
            batch = todo[start : start + group]
            rows = _run_batch(task, batch, description)
            save([_record(chunk, row) for chunk, row in zip(batch, rows, strict=True)])
            bar.update(len(batch))


def _record(chunk: Chunk, row: dict) -> dict:
    """What is kept of a chunk's answer: its query pair, or that it could not be parsed."""
    pair = _pair_from_row(row)
    if pair is None:
        return {"chunk_id": chunk.id, "dropped": True}
    return {"chunk_id": chunk.id, "query": pair[0], "negative_query": pair[1]}


def _examples(chunks: Sequence[Chunk], finished: dict[str, dict]) -> list[dict]:
    """The examples in chunk order; the chunks whose answer could not be parsed are counted."""
    examples = []
    dropped = 0
    for chunk in chunks:
        record = finished[chunk.id]
        if record.get("dropped"):
            dropped += 1
            continue
        examples.append(
            {
                "chunk_id": chunk.id,
                "query": record["query"],
                "negative_query": record["negative_query"],
            }
        )
    if dropped:
        logger.warning(
            "Dropped %d of %d chunks: the LLM output could not be parsed into a query and a "
            "different negative query",
            dropped,
            len(chunks),
        )
    return examples


def _run_batch(task: Any, batch: Sequence[Chunk], description: str) -> list[dict]:
    inputs = [{"anchor": chunk.text} for chunk in batch]
    try:
        return next(task.process(inputs))
    except Exception as exc:
        if _is_openai_timeout(exc):
            llm = task.llm
            raise ServiceError(
                f"no answer from the LLM endpoint ({description}) within "
                f"{getattr(llm, 'timeout', '?')} s, tried {getattr(llm, 'max_retries', 0) + 1} "
                "time(s): check that the server is up and serving this model, or raise "
                "--llm-timeout / --llm-retries"
            ) from exc
        if _is_openai_error(exc):
            raise ServiceError(
                f"the LLM endpoint failed ({description}): {type(exc).__name__}: {_first_line(exc)}"
            ) from exc
        raise


def _is_openai_timeout(exc: BaseException) -> bool:
    try:
        import openai
    except ImportError:
        return False
    return isinstance(exc, openai.APITimeoutError)


def _is_openai_error(exc: BaseException) -> bool:
    try:
        import openai
    except ImportError:
        return False
    return isinstance(exc, openai.OpenAIError)


def _pair_from_row(row: dict) -> tuple[str, str] | None:
    positive, negative = row.get("positive"), row.get("negative")
    if not (positive and negative):
        raw = (row.get("distilabel_metadata") or {}).get(f"raw_output_{TASK_NAME}")
        positive, negative = parse_pair(raw) if isinstance(raw, str) else (None, None)
    query, negative_query = clean_query(positive), clean_query(negative)
    if not query or not negative_query or query.casefold() == negative_query.casefold():
        return None
    if query in FORMAT_EXAMPLE or negative_query in FORMAT_EXAMPLE:
        return None  # the model copied the format example
    return query, negative_query


def parse_pair(raw: str) -> tuple[str | None, str | None]:
    """Positive and negative from labelled sections of ``raw`` (lenient; None if missing)."""
    found: dict[str, list[str]] = {}
    current = None
    for line in raw.splitlines():
        m = _LABEL.match(line)
        if m:
            current = m.group(1).lower()
            found.setdefault(current, [])
            if m.group(2):
                found[current].append(m.group(2))
        elif current is not None and line.strip():
            found[current].append(line)
    return (
        "\n".join(found["positive"]) if found.get("positive") else None,
        "\n".join(found["negative"]) if found.get("negative") else None,
    )


def clean_query(text: str | None) -> str | None:
    """The first non-empty line, without bullets, labels and quotes; None if unusable."""
    if not text:
        return None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(("```", "#")):
            return None  # code or a stray heading instead of a query
        line = _LEADING_JUNK.sub("", line).strip().strip("*_").strip().strip(_QUOTES).strip()
        if line:
            line = " ".join(line.split())
            return line if 3 <= len(line) <= MAX_QUERY_CHARS else None
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


class _DropStandaloneWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "hasn't received a pipeline" not in record.getMessage()


@contextmanager
def _quiet_standalone_step_warning() -> Iterator[None]:
    """distilabel warns when a task is used without a Pipeline; using it standalone is meant."""
    step_logger = logging.getLogger(f"distilabel.step.{TASK_NAME}")
    flt = _DropStandaloneWarning()
    step_logger.addFilter(flt)
    try:
        yield
    finally:
        step_logger.removeFilter(flt)
