#!/usr/bin/env bash
# The GPU paths in one prepared run (device machine or any CUDA host): training throughput
# and MFU (compiled and eager), sampling throughput (static-cache fast path vs dynamic cache),
# and the hf backend's tests (bf16, LoRA) on CUDA. Results go to $OUT (default ./gpu_check).
# Wheels the host lacks may sit in .whl/ (see docs/measurements.md, "GPU checks").
set -u
OUT=${OUT:-gpu_check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
PY=${PY:-python3}
export PYTHONPATH=$PWD/workflow:$PWD/tests:${PYTHONPATH:-}
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  $PY -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
} 2>&1 | tee "$OUT/env.txt"
timeout 200 $PY bench/gpu_train.py 2>&1 | grep -v '%|' | tee "$OUT/train_compiled.txt"
timeout 120 $PY bench/gpu_train.py --no-compile 2>&1 | grep -v '%|' | tee "$OUT/train_eager.txt"
timeout 150 $PY bench/gpu_sample.py 2>&1 | grep -v '%|' | tee "$OUT/sample.txt"
timeout 150 $PY -m pytest -q -x -p no:cacheprovider tests/test_train_backends.py 2>&1 | tail -15 | tee "$OUT/backends_tests.txt"
