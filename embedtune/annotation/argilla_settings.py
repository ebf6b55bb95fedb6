"""The layout of an embedtune review dataset in Argilla 2.x: fields, questions, metadata, vector.

One record per generated example (record id = ``chunk_id``). The annotator reads the chunk
(``document``) with its generated ``query`` and ``negative_query`` and answers:

- ``decision`` (required): ``accept`` keeps the example, ``discard`` drops it;
- ``query_edit`` / ``negative_query_edit`` (optional, prefilled with the generated texts as
  suggestions): what they hold when submitted replaces the generated text.

Metadata lets reviewers filter and sort: ``section``, ``source``, ``token_count`` and the base
model's cosine similarities between the texts (``sim_chunk_positive`` low = the query may not
match the chunk; ``sim_positive_negative`` high = the negative may be too close to the query).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import argilla as rg

# Fields
FIELD_DOCUMENT = "document"
FIELD_QUERY = "query"
FIELD_NEGATIVE_QUERY = "negative_query"

# Questions
QUESTION_DECISION = "decision"
QUESTION_QUERY_EDIT = "query_edit"
QUESTION_NEGATIVE_QUERY_EDIT = "negative_query_edit"
LABEL_ACCEPT = "accept"
LABEL_DISCARD = "discard"

# Metadata
META_SECTION = "section"
META_SOURCE = "source"
META_TOKEN_COUNT = "token_count"
META_SIM_POSITIVE_NEGATIVE = "sim_positive_negative"
META_SIM_CHUNK_POSITIVE = "sim_chunk_positive"
META_SIM_CHUNK_NEGATIVE = "sim_chunk_negative"
SIMILARITY_METADATA = (META_SIM_POSITIVE_NEGATIVE, META_SIM_CHUNK_POSITIVE, META_SIM_CHUNK_NEGATIVE)

# Vector
VECTOR_DOCUMENT = "document_embedding"

# The review of doubtful negatives (embedtune.annotation.negative_review) has these fields.
NEGATIVE_REVIEW_FIELDS = ("query", "positive", "candidate")

GUIDELINES = """\
Each record is one training example for a retrieval model: a chunk of documentation (**document**),
a question that the chunk answers (**query**) and a similar-looking question that the chunk does
*not* answer (**negative_query**).

1. **decision**: choose *accept* if the query is a realistic question that this chunk answers,
   *discard* if the example is unusable (query not answered by the chunk, nonsense chunk, ...).
2. **query_edit**: prefilled with the generated query; fix it in place if needed.
3. **negative_query_edit**: prefilled with the generated negative; fix it if the chunk actually
   answers it, or if it is unrelated to the chunk's topic.

Then submit. Only submitted records are used for training; discarded ones are left out.
"""


# Record id = chunk id, then ~2, ~3... for further examples of the same chunk.
RECORD_ID_SEPARATOR = "~"


def build_settings(dimensions: int) -> rg.Settings:
    """The Argilla dataset settings for a review dataset whose vectors have ``dimensions``."""
    import argilla as rg

    return rg.Settings(
        guidelines=GUIDELINES,
        fields=[
            rg.TextField(name=FIELD_DOCUMENT, title="Document (chunk)", use_markdown=True),
            rg.TextField(name=FIELD_QUERY, title="Generated query"),
            rg.TextField(
                name=FIELD_NEGATIVE_QUERY, title="Generated negative query", required=False
            ),
        ],
        questions=[
            rg.LabelQuestion(
                name=QUESTION_DECISION,
                title="Keep this example?",
                labels={LABEL_ACCEPT: "accept", LABEL_DISCARD: "discard"},
                required=True,
            ),
            rg.TextQuestion(
                name=QUESTION_QUERY_EDIT,
                title="Query (edit if needed)",
                description="A question this chunk answers. What you submit replaces the query.",
                required=False,
            ),
            rg.TextQuestion(
                name=QUESTION_NEGATIVE_QUERY_EDIT,
                title="Negative query (edit if needed)",
                description="A similar question this chunk does NOT answer.",
                required=False,
            ),
        ],
        metadata=[
            rg.TermsMetadataProperty(name=META_SECTION, title="Section"),
            rg.TermsMetadataProperty(name=META_SOURCE, title="Source file"),
            rg.IntegerMetadataProperty(name=META_TOKEN_COUNT, title="Tokens"),
            rg.FloatMetadataProperty(name=META_SIM_POSITIVE_NEGATIVE, title="sim(query, negative)"),
            rg.FloatMetadataProperty(name=META_SIM_CHUNK_POSITIVE, title="sim(chunk, query)"),
            rg.FloatMetadataProperty(name=META_SIM_CHUNK_NEGATIVE, title="sim(chunk, negative)"),
        ],
        vectors=[
            rg.VectorField(name=VECTOR_DOCUMENT, title="Chunk embedding", dimensions=dimensions),
        ],
    )


def settings_signature(settings: rg.Settings) -> dict[str, Any]:
    """What must match for an existing dataset to be reused: names, kinds, labels, dimensions."""

    def kind(obj: Any) -> str:
        return str(getattr(obj, "type", None) or type(obj).__name__)

    return {
        "fields": sorted((f.name, kind(f)) for f in settings.fields),
        "questions": sorted(
            (q.name, kind(q), tuple(sorted(getattr(q, "labels", None) or ())))
            for q in settings.questions
        ),
        "metadata": sorted((m.name, kind(m)) for m in settings.metadata),
        "vectors": sorted((v.name, int(v.dimensions)) for v in settings.vectors),
    }
