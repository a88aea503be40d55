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

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# Debian packages the pipeline and its tests need: ffmpeg (decoding, ffprobe), chromium (site
# tests, driven by Playwright: never `playwright install`), Java and npm (the HTML checker vnu).
system-deps:
	@missing=""; \
	command -v ffprobe >/dev/null || missing="$$missing ffmpeg"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v java >/dev/null || missing="$$missing openjdk-17-jre-headless"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

$(STAMP): pyproject.toml constraints.txt package-lock.json
	$(MAKE) system-deps
	# vnu.jar ships inside the npm package; its install script (which fetches a JRE) is skipped.
	npm ci --ignore-scripts --no-audit --no-fund
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	# The CPU build of torch from local disk, before anything that depends on torch.
	$(PIP) install -q torch==2.13.0
	# openai-whisper (the reference engine) without triton: triton only compiles GPU kernels.
	$(PIP) install -q -c constraints.txt numba tiktoken more-itertools tqdm
	$(PIP) install -q --no-deps -c constraints.txt openai-whisper==20250625
	# Resemblyzer only for its voice encoder's weights (pipeline/transcribe/diarize.py runs them in torch).
	$(PIP) install -q --no-deps -c constraints.txt Resemblyzer==0.1.4
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
	# transcripts/ is never removed: it holds editors' corrections.
	rm -rf $(VENV) site .cache .pytest_cache .hypothesis node_modules
