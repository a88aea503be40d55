# Wijkarchief — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
# Joined Whisper weights and converted checkpoints live here (never in $HOME during tests).
export WIJK_CACHE_DIR ?= $(CURDIR)/.cache/wijkarchief

.PHONY: install demo test test-slow bench clean system-deps

# Debian packages the pipeline and its tests need: ffmpeg (decoding, ffprobe), chromium (site tests).
system-deps:
	@if ! command -v ffprobe >/dev/null || ! command -v chromium >/dev/null; then \
		echo "Installing Debian packages: ffmpeg chromium"; \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -q ffmpeg chromium; \
	fi

$(STAMP): pyproject.toml constraints.txt
	$(MAKE) system-deps
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	# The CPU build of torch from local disk, before anything that depends on torch.
	$(PIP) install -q torch==2.13.0
	# openai-whisper (the reference engine) without triton: triton only compiles GPU kernels.
	$(PIP) install -q -c constraints.txt numba tiktoken more-itertools tqdm
	$(PIP) install -q --no-deps -c constraints.txt openai-whisper==20250625
	$(PIP) install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/wijk build --archive .

test: install
	$(PY) -m pytest -q

test-slow: install
	$(PY) -m pytest -q -m slow

bench: install
	$(PY) bench/transcribe.py

clean:
	rm -rf $(VENV) site demo/site .cache .pytest_cache
