"""Every loss trains end to end (tiny run); prompts are used in training and evaluation, and saved."""

from __future__ import annotations

import json
import math
import sys

import pytest
import torch
from datasets import Dataset

import embedtune.workflow as workflow
from embedtune.config import LOSSES, FinetuneConfig
from embedtune.data.protocol import BY_DOCUMENT
from embedtune.data.retrieval_data import DOCUMENT, NEGATIVE, QUERY, RetrievalData
from embedtune.evaluation.retrieval import evaluate_retrieval
from embedtune.run_files import save_model_folder
from embedtune.training.arguments import build_training_arguments
from embedtune.training.finetune import finetune, prompts_for
from embedtune.training.losses import build_loss
from embedtune.training.model_loading import load_model
from embedtune.training.selection import carve_validation
from tests.conftest import ZENML_QA

QUERY_PROMPT, DOCUMENT_PROMPT = "query: ", "passage: "


@pytest.fixture(scope="module")
def tiny() -> RetrievalData:
    rows = [json.loads(line) for line in (ZENML_QA / "pairs.jsonl").open()][:14]
    train, test = rows[:8], rows[8:]
    corpus = {f"d{i}": r["positive"] for i, r in enumerate(rows)}
    return RetrievalData(
        Dataset.from_dict(
            {QUERY: [r["query"] for r in train], DOCUMENT: [r["positive"] for r in train]}
        ),
        {f"q{i}": r["query"] for i, r in enumerate(test, start=8)},
        corpus,
        {f"q{i}": {f"d{i}"} for i in range(8, 14)},
        protocol={"split": BY_DOCUMENT},  # test documents never trained on (nor mined)
    )


def _config(tmp_path, **values) -> FinetuneConfig:
    return FinetuneConfig(
        max_seq_length=32,
        dims=[384, 64],
        eval_every=0.5,
        batch_size=4,
        mini_batch_size=2,
        epochs=1,
        learning_rate=1e-4,
        warmup_ratio=0.0,
        save_total_limit=1,
        output=str(tmp_path),
        **values,
    )


def _triplets(tiny: RetrievalData) -> list[list[str]]:
    queries, documents = tiny.train[QUERY][:4], tiny.train[DOCUMENT][:4]
    return [queries, documents, documents[1:] + documents[:1]]


@pytest.mark.parametrize("loss_name", LOSSES)
def test_each_loss_computes_and_steps_on_triplets(loss_name, tiny, base_model_path):
    model = load_model(base_model_path, max_seq_length=32)
    guide = load_model(base_model_path, max_seq_length=32) if loss_name == "gist" else None
    loss = build_loss(model, loss_name, [384, 64], mini_batch_size=2, guide=guide)
    features = [model.preprocess(texts) for texts in _triplets(tiny)]
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
    value = loss(features, None)
    assert torch.isfinite(value) and value.item() > 0
    value.backward()  # cached_mnrl: its GradCache hook fills the gradients here
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    optimizer.step()
    assert any(not torch.equal(p, before[n]) for n, p in model.named_parameters())


@pytest.mark.slow
def test_cached_mnrl_trains_end_to_end_with_negatives(tiny, tmp_path, base_model_path):
    model = load_model(base_model_path, max_seq_length=32)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    train = tiny.train.add_column(NEGATIVE, list(reversed(tiny.train[DOCUMENT])))
    config = _config(tmp_path, loss="cached_mnrl")
    summary = finetune(model, train, tiny, config, tmp_path / "checkpoints")
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    assert summary.optimizer_steps == steps_per_epoch
    # eval_every 0.5 of an epoch: an evaluation half-way and one at the last step
    assert [m["step"] for m in summary.epoch_metrics] == [1, 2]
    assert all("eval_retrieval_dim_64_ndcg@10" in m for m in summary.epoch_metrics)
    assert summary.best_checkpoint is not None  # no base score given: the best evaluation wins
    assert any(not torch.equal(p, before[n]) for n, p in model.named_parameters())


def test_prompts_map_every_text_column():
    config = FinetuneConfig(query_prompt=QUERY_PROMPT, document_prompt=DOCUMENT_PROMPT)
    pairs = {QUERY: ["q"], DOCUMENT: ["d"]}
    assert prompts_for(config, Dataset.from_dict(pairs)) == {
        QUERY: QUERY_PROMPT,
        DOCUMENT: DOCUMENT_PROMPT,
    }
    mined = Dataset.from_dict({**pairs, "negative_1": ["n1"], "negative_2": ["n2"]})
    prompts = prompts_for(config, mined)
    assert prompts == {
        QUERY: QUERY_PROMPT,
        DOCUMENT: DOCUMENT_PROMPT,
        "negative_1": DOCUMENT_PROMPT,
        "negative_2": DOCUMENT_PROMPT,
    }
    args = build_training_arguments(config, "unused", eval_steps=3, prompts=prompts)
    assert args.prompts == prompts
    assert args.eval_steps == 3 and args.metric_for_best_model.endswith("ndcg@10")
    assert prompts_for(FinetuneConfig(), Dataset.from_dict(pairs)) == {}


@pytest.mark.slow
def test_prompts_used_in_training_and_evaluation_and_saved(tiny, tmp_path, base_model_path):
    config = _config(
        tmp_path,
        base_model=base_model_path,
        query_prompt=QUERY_PROMPT,
        document_prompt=DOCUMENT_PROMPT,
        hard_negatives=True,
        hard_negative_range_max=4,
        validation_fraction=0.25,
    )
    model = workflow.load_base_model(config)
    trained_with: list[tuple[str, str | None]] = []
    preprocess = model.preprocess

    def spy(inputs, *args, prompt=None, **kwargs):
        # Only the trainer's batches (its data collator), not the evaluator's or mining encodes.
        if sys._getframe(1).f_code.co_filename.endswith("data_collator.py"):
            trained_with.extend((text, prompt) for text in inputs)
        return preprocess(inputs, *args, prompt=prompt, **kwargs)

    model.preprocess = spy  # read by the trainer's data collator when `train` builds it
    try:
        outcome = workflow.train(config, model, tiny, tmp_path)
    finally:
        del model.preprocess
    assert outcome.model is model
    carved = outcome.summary.model_selection
    assert carved["validation_queries"] >= 1
    assert carved["train_pairs"] == len(tiny.train) - carved["validation_queries"]
    assert outcome.summary.hard_negative_mining["pairs"] == carved["train_pairs"]
    # Training: every query got the query prompt, every document and negative the document
    # prompt; the validation queries held out for selection were never trained on.
    queries, documents = set(tiny.train[QUERY]), set(tiny.train[DOCUMENT])
    seen = {t for t, _ in trained_with}
    assert seen & documents and seen <= queries | documents
    # (the no-duplicates batch sampler may leave out a pair whose negative is another's positive)
    held_out = carve_validation(tiny, config).validation  # seeded: the split `train` made
    assert len(held_out.queries) == carved["validation_queries"]
    held_out_texts = set(held_out.queries.values()) | {
        held_out.corpus[d] for docs in held_out.relevant.values() for d in docs
    }
    assert seen & queries and not seen & held_out_texts  # nor mined as negatives
    for text, prompt in trained_with:
        assert prompt == (QUERY_PROMPT if text in queries else DOCUMENT_PROMPT), text[:40]

    # Saved with the model (whichever candidate was selected), so users' encode_query and
    # encode_document apply them.
    path = save_model_folder(outcome.model, tmp_path / "model")
    reloaded = load_model(str(path), max_seq_length=32)
    assert reloaded.prompts["query"] == QUERY_PROMPT
    assert reloaded.prompts["document"] == DOCUMENT_PROMPT
    text = tiny.queries["q8"]
    assert torch.allclose(
        reloaded.encode_query([text], convert_to_tensor=True),
        reloaded.encode([QUERY_PROMPT + text], convert_to_tensor=True, prompt=""),
        atol=1e-5,
    )

    # Evaluation encodes with the same prompts.
    used: list[tuple[str, str | None]] = []
    for name in ("encode_query", "encode_document"):
        real = getattr(reloaded, name)

        def spy(texts, *args, _real=real, _name=name, prompt=None, **kwargs):
            used.append((_name, prompt))
            return _real(texts, *args, prompt=prompt, **kwargs)

        setattr(reloaded, name, spy)
    evaluate_retrieval(
        reloaded, tiny, [384], query_prompt=QUERY_PROMPT, document_prompt=DOCUMENT_PROMPT
    )
    assert ("encode_query", QUERY_PROMPT) in used and ("encode_document", DOCUMENT_PROMPT) in used
    assert set(used) == {("encode_query", QUERY_PROMPT), ("encode_document", DOCUMENT_PROMPT)}
