#!/usr/bin/env bash
# The GPU check of issue 7, for a lent H100 (under 8 minutes; never run by CI).
#
#   bash bench/gpu_check.sh            # from the repository root, with the venv's python on PATH
#
# 1. the GPU and the software it runs under;
# 2. the equivalence tests, and the runner tests on CPU *and* CUDA (PASTA_TEST_CUDA=1: real CUDA
#    graphs, fp32 to 1e-3 and bf16 to 0.05 + 2% of the log-prob);
# 3. per-step latency, eager vs static + CUDA graphs, at 1 and 16 tokens per step, for a
#    135M-shape and a 1B-shape random Llama (bench/gpu_steps.py);
# 4. `python -m pasta_core bench` on the bundled models, when they are there.
# Results: bench/results-gpu/ (JSON and Markdown; the HTML charts are gitignored).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
OUT=bench/results-gpu
mkdir -p "$OUT"
status=0

echo "== 1. machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || status=1
$PY -c "import torch, transformers; print('torch', torch.__version__, 'cuda', torch.version.cuda,
'transformers', transformers.__version__, 'gpu', torch.cuda.get_device_name(0))" || status=1

echo "== 2. tests (CPU and CUDA)"
PASTA_TEST_CUDA=1 timeout 210 $PY -m pytest -q -p no:cacheprovider \
    tests/test_equivalence.py tests/test_runners.py 2>&1 | tee "$OUT/pytest.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== 3. per-step latency"
timeout 150 $PY bench/gpu_steps.py --device cuda --out "$OUT/steps.json" \
    | tee "$OUT/steps.md"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== 4. pasta_core bench on the bundled models"
if [ -f assets/models/pasta-tiny/config.json ] && [ -f assets/models/pasta-tiny-base/config.json ]
then
    timeout 90 $PY -m pasta_core bench --model bundled:pasta-tiny \
        --baseline bundled:pasta-tiny-base --prompts world:test:12 --repeats 2 \
        --device cuda --out "$OUT/bench" || status=1
else
    echo "no bundled models in assets/models: skipped"
fi

echo "== done (status $status); results in $OUT"
exit $status
