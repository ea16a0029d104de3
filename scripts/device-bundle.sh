#!/usr/bin/env bash
# Builds the release test binaries and the `bench` and `gpu_ceilings` examples here and packs them (stripped, xz) into
# .device/bundle.tar.xz for scripts/gpu-bench.sh on the device machine (see ../shared/GPU.md).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --example bench --example gpu_ceilings
rm -rf .device && mkdir -p .device/tests
cargo test --release --no-run 2>&1 | sed -n 's/.*Executable tests\/.*(\(target\/release\/deps\/[^)]*\)).*/\1/p' |
    while read -r bin; do cp "$bin" .device/tests/; done
cp target/release/examples/bench target/release/examples/gpu_ceilings .device/
strip .device/tests/* .device/bench .device/gpu_ceilings
(cd .device && tar -cJf bundle.tar.xz tests bench gpu_ceilings && rm -rf tests bench gpu_ceilings)
ls -la .device
