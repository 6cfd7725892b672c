# Two commands do all set-up on a fresh machine: `make reproduce` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CORES ?= 2
# Default DVC remote: a folder beside the checkout (outside the work tree); override for a team.
DVC_REMOTE ?= $(abspath ..)/teachwhy-dvc-remote
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export MPLBACKEND := Agg

.PHONY: reproduce restore test lint format bench bench-gpu clean

$(STAMP): envs/requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -r envs/requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

reproduce: $(STAMP)
	$(VENV)/bin/snakemake --cores $(CORES)
	$(VENV)/bin/snakemake --report results/report.zip
	$(VENV)/bin/dvc remote add --local -d -f local $(DVC_REMOTE)
	$(VENV)/bin/dvc commit -f -q
	$(VENV)/bin/dvc push -q
	$(VENV)/bin/teachwhy claims

# In a fresh clone: pull the artifacts, check them against dvc.lock, make Snakemake trust them.
restore: $(STAMP)
	$(VENV)/bin/dvc remote list --local | grep -q . || $(VENV)/bin/dvc remote add --local -d -f local $(DVC_REMOTE)
	$(VENV)/bin/teachwhy restore

test: $(STAMP)
	$(VENV)/bin/ruff check workflow tests bench
	$(VENV)/bin/ruff format --check workflow tests bench
	$(VENV)/bin/pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check workflow tests bench

format: $(STAMP)
	$(VENV)/bin/ruff format workflow tests bench

bench: $(STAMP)
	$(PY) bench/train_throughput.py
	$(PY) bench/dag_walltime.py

# On a machine with a GPU: SFT MFU and batched-sampling throughput of the project's paths.
bench-gpu: $(STAMP)
	$(PY) bench/gpu_train.py
	$(PY) bench/gpu_sample.py

clean:
	rm -rf results .snakemake .scratch
