#!/usr/bin/env bash
# CPU benchmark against numpy in the same run: numpy times the rows that `examples/bench.rs`
# lists for the CPU (scripts/numpy_ref.py), then the example measures them with that reference,
# so its `% ref` column is numpy_time / wmx_time (above 100% means wmx is faster).
# Options go to the example: `bash scripts/bench-cpu.sh --quick`, `--only matmul`...
set -euo pipefail
cd "$(dirname "$0")/.."
PY=python3
if ! $PY -c "import numpy" 2>/dev/null; then
    [ -x .venv-bench/bin/python ] || { $PY -m venv .venv-bench && .venv-bench/bin/pip install -q numpy; }
    PY=.venv-bench/bin/python
fi
# Old OpenBLAS workarounds slow a current numpy down; unset them for this measurement only.
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
# Mesa warns without a runtime dir when wgpu looks for adapters on a headless machine.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
cargo build --release --example bench -q
bench=target/release/examples/bench
"$bench" --list --device cpu "$@" | $PY scripts/numpy_ref.py > /tmp/numpy-ref.txt
echo "# numpy $($PY -c 'import numpy; print(numpy.__version__)'), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
"$bench" --device cpu --ref /tmp/numpy-ref.txt "$@"
