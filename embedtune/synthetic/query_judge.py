"""An LLM judge for the query filter's ``judge`` rule: does a query need its passage?

A generated query such as "What does the author argue in this section?" cannot be understood
(nor answered by search) without the passage it was written from. ``llm_judge(spec)`` returns a
function ``queries -> [needs_passage, ...]`` for ``embedtune.data.query_filter.filter_queries``;
the LLM is any backend of ``embedtune.synthetic.llm`` (``openai:MODEL`` or ``hf:PATH``), asked
once per query with greedy decoding. An answer that is neither yes nor no keeps the query.

Example::

    from embedtune.data.query_filter import filter_queries
    from embedtune.synthetic.query_judge import llm_judge
    outcome = filter_queries(pairs, model, judge=llm_judge("openai:gpt-4o-mini"))
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

logger = logging.getLogger(__name__)

PROMPT = """\
A search query must make sense on its own, to someone who has not seen any document.

Query: {query}

Does this query point at a particular text that it does not include (for example "the passage", \
"this section", "the author", "the above", "it" with nothing it refers to), so that it cannot be \
understood on its own? Answer with one word: YES or NO."""

_ANSWER = re.compile(r"\b(yes|no)\b", re.IGNORECASE)


def parse_judgement(text: str | None) -> bool | None:
    """True for YES (the query needs its passage), False for NO, None when unclear. The first
    yes/no word counts; the generation prefix of embedtune's local models is ignored."""
    from embedtune.synthetic.llm import RESPONSE_PREFIX

    if not text:
        return None
    text = text.removeprefix(RESPONSE_PREFIX)
    match = _ANSWER.search(text)
    return None if match is None else match.group(1).lower() == "yes"


def llm_judge(
    spec: str, *, timeout: int = 60, retries: int = 2, batch_size: int = 8
) -> Callable[[list[str]], list[bool]]:
    """A judge backed by the LLM `spec`; loaded on first use."""
    from embedtune.synthetic.llm import build_llm, describe_llm

    llm = build_llm(spec, max_new_tokens=4, temperature=0, timeout=timeout, max_retries=retries)
    loaded = False

    def judge(queries: list[str]) -> list[bool]:
        nonlocal loaded
        if not loaded:
            llm.load()
            loaded = True
        verdicts: list[bool] = []
        unclear = 0
        for start in range(0, len(queries), batch_size):
            batch = queries[start : start + batch_size]
            inputs = [[{"role": "user", "content": PROMPT.format(query=q)}] for q in batch]
            for output in llm.generate(inputs=inputs, num_generations=1):
                answer = parse_judgement((output.get("generations") or [None])[0])
                unclear += answer is None
                verdicts.append(bool(answer))
        logger.info(
            "LLM judge (%s): %d of %d queries need their passage; %d answers unclear (kept)",
            describe_llm(spec),
            sum(verdicts),
            len(queries),
            unclear,
        )
        return verdicts

    return judge
