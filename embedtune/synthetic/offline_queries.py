"""Queries without an LLM: keyword queries from each chunk's most informative sentence, plus
questions from section headings (a lightweight inverse-cloze task).

Search users type short keyword queries; the most distinctive words (by IDF over all chunks) of a
chunk's most informative sentence approximate one. The hard-negative query of a chunk is the
keyword query of the chunk sharing most of its key terms, from another section.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter, defaultdict

from embedtune.synthetic.chunking import Chunk

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*[A-Za-z0-9_]|[A-Za-z]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
_STOPWORDS = frozenset(
    """a about above after again against all also an and any are as at be because been before
    being below between both but by can could did do does doing done down during each either else
    etc few for from further had has have having here how however i if in into is it its itself
    just may might more most must my no nor not now of off on once only or other otherwise our out
    over own same see should so some such than that the their them then there these they this
    those through thus to too under until up use used uses using very was we were what when where
    whether which while who whom why will with would you your e.g i.e example following section
    note one two first second new value values""".split()
)
KEYWORDS_PER_QUERY = 5


def _words(text: str) -> list[str]:
    return [w.lower().strip(".") for w in _WORD.findall(text)]


def _content_words(text: str) -> list[str]:
    return [w for w in _words(text) if len(w) > 2 and w not in _STOPWORDS and not w.isdigit()]


def _idf(chunks: list[Chunk]) -> dict[str, float]:
    df: Counter[str] = Counter()
    for chunk in chunks:
        df.update(set(_content_words(chunk.text)))
    n = len(chunks)
    return {w: math.log((n + 1) / (c + 0.5)) for w, c in df.items()}


def _keyword_queries(
    text: str, idf: dict[str, float], rng: random.Random, count: int
) -> list[tuple[str, set[str]]]:
    """Keyword queries from the chunk's `count` most informative sentences: each is the top-IDF
    words of one sentence, in reading order. The first is the chunk's main query."""
    sentences = [s for s in _SENTENCE.split(text) if len(s.split()) >= 5] or [text]

    def informativeness(sentence: str) -> float:
        words = set(_content_words(sentence))
        return sum(sorted((idf.get(w, 0.0) for w in words), reverse=True)[:KEYWORDS_PER_QUERY])

    ranked = sorted(sentences, key=informativeness, reverse=True)
    if len(ranked) > 1 and rng.random() < 0.3:
        # Sometimes lead with the runner-up, so the main queries are not all alike.
        ranked[0], ranked[1] = ranked[1], ranked[0]
    queries: list[tuple[str, set[str]]] = []
    for sentence in ranked[:count]:
        words = list(dict.fromkeys(_content_words(sentence)))
        top = set(sorted(words, key=lambda w: idf.get(w, 0.0), reverse=True)[:KEYWORDS_PER_QUERY])
        query = " ".join(w for w in words if w in top)
        if query and query not in (q for q, _ in queries):
            queries.append((query, top))
    return queries or [("", set())]


def _heading_question(section: str) -> str | None:
    title = section.split(" > ")[-1].strip().strip('"').strip()
    if len(title.split()) < 2 and len(title) < 4:
        return None
    return f"What does the documentation say about {title}?"


def generate_offline_examples(
    chunks: list[Chunk], seed: int = 42, queries_per_chunk: int = 2
) -> list[dict]:
    """Up to `queries_per_chunk` keyword queries per chunk (from different sentences), plus one
    heading question per section (on its first chunk).

    Returns dicts with chunk_id, query and negative_query (a query of a similar chunk from another
    section, which this chunk does not answer).
    """
    if not chunks:
        return []
    rng = random.Random(seed)
    idf = _idf(chunks)
    all_keywords = [_keyword_queries(c.text, idf, rng, queries_per_chunk) for c in chunks]
    keyword = [queries[0] for queries in all_keywords]  # main query: indexed for negatives

    index: dict[str, list[int]] = defaultdict(list)
    for i, (_, terms) in enumerate(keyword):
        for term in terms:
            index[term].append(i)

    def negative_for(i: int) -> str:
        shared: Counter[int] = Counter()
        for term in keyword[i][1]:
            shared.update(
                j
                for j in index[term]
                if chunks[j].section != chunks[i].section and keyword[j][0] != keyword[i][0]
            )
        if shared:
            j = max(shared, key=lambda k: (shared[k], -k))
        else:
            others = [j for j in range(len(chunks)) if j != i] or [i]
            j = rng.choice(others)
        return keyword[j][0]

    examples: list[dict] = []
    seen_sections: set[tuple[str, str]] = set()
    for i, chunk in enumerate(chunks):
        negative = negative_for(i)
        for query, _ in all_keywords[i]:
            if query:
                examples.append({"chunk_id": chunk.id, "query": query, "negative_query": negative})
        key = (chunk.source, chunk.section)
        if key not in seen_sections:
            seen_sections.add(key)
            question = _heading_question(chunk.section)
            if question:
                examples.append(
                    {"chunk_id": chunk.id, "query": question, "negative_query": negative}
                )
    return examples
