#!/usr/bin/env bash
# coop-variants.sh — A/B of the cooperative-matrix f16 matmul tilings (kernels::CoopVariant,
# picked per device by WMX_COOP_VARIANT): for each variant, the correctness tests
# (tests/gpu_matmul_coop.rs, on the GPU with that variant) and the 4096^3 timing of
# examples/matmul_f16.rs (20 independent products in one eval, best/median of 5 rounds).
#
# Here (build; .probe/ is git-ignored through .git/info/exclude):
#   scripts/coop-variants.sh build
# which runs
#   cargo build --release --example matmul_f16
#   cargo test --release --test gpu_matmul_coop --no-run
#   and copies both binaries, stripped, to .probe/ (matmul_f16, gpu_matmul_coop).
# On the device (one call; carry [".probe"]):
#   scripts/coop-variants.sh            # every variant, then the tiled kernel (WMX_NO_COOP=1)
#   VARIANTS="128x256x16 256x128x16" N=4096 COUNT=20 ROUNDS=5 scripts/coop-variants.sh
# Output: per variant a `test result:` line (and any failure) and a `variant ... TFLOP/s` line.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = build ]; then
    set -e
    cargo build --release --example matmul_f16
    bin=$(cargo test --release --test gpu_matmul_coop --no-run 2>&1 |
        sed -n 's/.*Executable tests\/gpu_matmul_coop.rs (\(target\/release\/deps\/[^)]*\)).*/\1/p' | tail -1)
    mkdir -p .probe
    cp target/release/examples/matmul_f16 .probe/matmul_f16
    cp "$bin" .probe/gpu_matmul_coop
    strip .probe/matmul_f16 .probe/gpu_matmul_coop
    ls -la .probe/matmul_f16 .probe/gpu_matmul_coop
    exit 0
fi

# Keep in step with CoopVariant::ALL (src/backend/gpu/kernels/matmul_coop.rs).
VARIANTS=${VARIANTS:-"128x128x32 128x128x64s 128x256x16 128x256x32s 256x128x16 256x128x32s 128x128x32w4 128x128x32v4 256x128x32sv4 256x128x32sv4l 128x128x32w4sl"}
N=${N:-4096}
COUNT=${COUNT:-20}
ROUNDS=${ROUNDS:-5}
export WMX_REQUIRE_GPU=1
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm --format=csv,noheader 2>/dev/null || true
for v in $VARIANTS; do
    echo "=== $v"
    WMX_COOP_VARIANT=$v timeout 300 .probe/gpu_matmul_coop --test-threads=4 2>&1 |
        grep -E "^test result|FAILED|panicked|wmx:|kernels built" | head -20
    WMX_COOP_VARIANT=$v timeout 120 .probe/matmul_f16 "$N" "$COUNT" "$ROUNDS" 2>&1 | grep -E "variant|wmx:|Error|panicked"
done
echo "=== tiled (WMX_NO_COOP=1)"
WMX_NO_COOP=1 timeout 120 .probe/matmul_f16 "$N" "$COUNT" "$ROUNDS" 2>&1 | grep -E "variant|Error|panicked"
