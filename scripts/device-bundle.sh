#!/usr/bin/env bash
# Builds the release test binaries and the bench examples (`bench`, `gpu_ceilings`, `bench_train`,
# `bench_conv`, `bench_load`, `bench_fast`, `bench_compile`, `llm` when present) and `mnist` here and packs them (stripped, xz) into
# .device/bundle.tar.xz for scripts/gpu-bench.sh on the device machine (see ../shared/GPU.md).
set -euo pipefail
cd "$(dirname "$0")/.."
EX="bench gpu_ceilings bench_train bench_conv bench_load mnist"
[ -f examples/bench_fast.rs ] && EX="$EX bench_fast"
[ -f examples/bench_compile.rs ] && EX="$EX bench_compile"
[ -d examples/llm ] && EX="$EX llm"
cargo build --release $(for e in $EX; do printf -- '--example %s ' "$e"; done)
rm -rf .device && mkdir -p .device/tests
cargo test --release --no-run 2>&1 | sed -n 's/.*Executable tests\/.*(\(target\/release\/deps\/[^)]*\)).*/\1/p' |
    while read -r bin; do cp "$bin" .device/tests/; done
for e in $EX; do cp "target/release/examples/$e" .device/; done
strip .device/tests/* $(for e in $EX; do echo ".device/$e"; done)
(cd .device && tar -cf - tests $EX | xz -9 --lzma2=dict=512MiB > bundle.tar.xz && rm -rf tests $EX)
ls -la .device
