#!/usr/bin/env bash
# Builds the release test binaries and the `ops` bench here and packs them (stripped, xz) into
# .device/bundle.tar.xz for scripts/gpu-bench.sh on the device machine (see ../shared/GPU.md).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bench ops
rm -rf .device && mkdir -p .device/tests
cargo test --release --no-run 2>&1 | sed -n 's/.*Executable tests\/.*(\(target\/release\/deps\/[^)]*\)).*/\1/p' |
    while read -r bin; do cp "$bin" .device/tests/; done
cp "$(ls -t target/release/deps/ops-* | grep -v '\.d$' | head -1)" .device/ops
strip .device/tests/* .device/ops
(cd .device && tar -cJf bundle.tar.xz tests ops && rm -rf tests ops)
ls -la .device
