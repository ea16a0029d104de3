#!/usr/bin/env bash
# wmx in a real browser: builds examples/web for wasm32-unknown-unknown, binds it with
# wasm-bindgen (the CLI's version must equal the wasm-bindgen crate's in Cargo.lock), serves the
# page on localhost (WebGPU needs a secure context) and drives it in headless Chromium
# (tools/web_test.py). The page runs its checks on the WebGPU device when Chromium offers an
# adapter (here SwiftShader, with --enable-unsafe-webgpu) and on the CPU device.
# Needs: rustup target wasm32-unknown-unknown, wasm-bindgen-cli, chromium, chromium-driver.
# Output: target/web/ (the page), target/web/screenshot.png.
set -euo pipefail
cd "$(dirname "$0")/.."

want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print }' Cargo.lock)"
have="$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }')"
if [ "$want" != "$have" ]; then
    echo "wasm-bindgen CLI $have does not match the crate's $want: cargo install wasm-bindgen-cli --version $want"
    exit 1
fi

cargo build --locked --example web --target wasm32-unknown-unknown
out=target/web
rm -rf "$out" && mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out/pkg" \
    target/wasm32-unknown-unknown/debug/examples/web.wasm
cp examples/web/index.html "$out/"
echo "page: $(du -sh "$out/pkg/web_bg.wasm" | cut -f1) of WebAssembly"

port=8766
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$out" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$port/index.html" >/dev/null && break
    sleep 0.1
done
# Chromium hides WebGPU on Linux unless asked; SwiftShader (its software Vulkan) is the adapter
# it then offers on a machine without a GPU.
python3 tools/web_test.py "http://127.0.0.1:$port/index.html" "$out/screenshot.png" \
    --enable-unsafe-webgpu
