#!/usr/bin/env bash
# CPU benchmark against numpy in the same run: our CPU rows (`cargo bench --bench ops -- cpu`)
# and numpy's timings, then the ratio numpy_time / wmx_time per row (>1 means wmx is faster).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=python3
if ! $PY -c "import numpy" 2>/dev/null; then
    $PY -m venv .venv-bench && .venv-bench/bin/pip install -q numpy && PY=.venv-bench/bin/python
fi
# Old OpenBLAS workarounds slow a current numpy down; unset them for this measurement only.
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
cargo bench --bench ops -- cpu 2>/dev/null | tee /tmp/wmx-cpu-bench.txt
$PY scripts/numpy_ref.py | tee /tmp/numpy-ref.txt
echo
echo "| op | size | wmx | numpy | numpy/wmx |"
echo "|---|---|---|---|---|"
while read -r _ op size secs; do
    pat=$(printf '%s' "$size" | sed 's/\^/\\^/g')
    row=$(grep -E "^\| $op +\| +$pat +\| cpu" /tmp/wmx-cpu-bench.txt || true)
    [ -n "$row" ] || continue
    us=$(echo "$row" | awk -F'|' '{print $5}' | sed 's/µs//; s/ //g')
    awk -v op="$op" -v size="$size" -v us="$us" -v ref="$secs" 'BEGIN { printf "| %s | %s | %.1f µs | %.1f µs | %.2f |\n", op, size, us, ref * 1e6, ref * 1e6 / us }'
done < /tmp/numpy-ref.txt
