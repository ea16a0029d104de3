#!/usr/bin/env bash
# Builds the release test binaries and the `bench`, `gpu_ceilings` and `bench_train` examples here and packs them (stripped, xz) into
# .device/bundle.tar.xz for scripts/gpu-bench.sh on the device machine (see ../shared/GPU.md).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --example bench --example gpu_ceilings --example bench_train
rm -rf .device && mkdir -p .device/tests
cargo test --release --no-run 2>&1 | sed -n 's/.*Executable tests\/.*(\(target\/release\/deps\/[^)]*\)).*/\1/p' |
    while read -r bin; do cp "$bin" .device/tests/; done
cp target/release/examples/bench target/release/examples/gpu_ceilings target/release/examples/bench_train .device/
strip .device/tests/* .device/bench .device/gpu_ceilings .device/bench_train
(cd .device && tar -cf - tests bench gpu_ceilings bench_train | xz -9 --lzma2=dict=512MiB > bundle.tar.xz && rm -rf tests bench gpu_ceilings bench_train)
ls -la .device
