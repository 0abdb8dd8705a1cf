#!/usr/bin/env bash
# The device benchmark of issue 23 on a machine with a GPU: at most 8 minutes, no download
# (procedural data, seeded random Inception weights). Prints the table and writes it into
# benchmarks/README.md; extra arguments go to gpu.py (e.g. --no-write, --skip fit).
#   bash benchmarks/gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python}"
if ! "$PY" -c "import srngan, torch_fidelity" 2>/dev/null; then
    "$PY" -m pip install -q -e ".[dev]"
fi
"$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name(0))"
exec timeout 480 "$PY" benchmarks/gpu.py --device cuda "$@"
