#!/usr/bin/env bash
# Runs on the device machine (see ../shared/GPU.md): the test binaries built here and carried in
# .device/ (real-GPU correctness), then torch timing the rows that the `bench` example lists
# (scripts/torch_ref.py), then the example itself with that reference (its `% ref` and `% copy`
# columns). Arguments go to the example (default `--large --probes`). Logs go to $OUT; the last
# lines printed are the table.
set -u
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export WMX_REQUIRE_GPU=1 INSTA_WORKSPACE_ROOT="$PWD" CI=true
OUT=${OUT:-/tmp/wmx-out}
mkdir -p "$OUT"
# Test binaries read fixtures through their compile-time CARGO_MANIFEST_DIR (the checkout they
# were built in, WMX_BUILD_ROOT, /work/main by default): link that path to this checkout.
# Binaries travel compressed (the working tree that travels is limited to 64 MiB).
[ -f .device/bundle.tar.xz ] && tar -C .device -xJf .device/bundle.tar.xz
root=${WMX_BUILD_ROOT:-/work/main}
if [ ! -e "$root" ]; then mkdir -p "$(dirname "$root")" && ln -s "$PWD" "$root"; fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
status=0
: > "$OUT/tests.log"
for t in .device/tests/*; do
    [ -x "$t" ] || continue
    r=$(timeout 180 "$t" --test-threads=8 2>&1 | tee -a "$OUT/tests.log" | grep -E '^test result' | tail -1)
    echo "$(basename "$t"): $r"
    case "$r" in *" 0 failed"*) ;; *) status=1 ;; esac
done
if [ -x .device/bench_train ]; then
    # The transforms issue's training step, with torch autograd on the same GPU as reference.
    timeout 240 .device/bench_train --device gpu --steps 50 > "$OUT/train.txt" 2> "$OUT/train.log"
    timeout 240 python3 scripts/train_ref.py --steps 50 > "$OUT/train_ref.txt" 2>> "$OUT/train.log"
    cat "$OUT/train.txt" "$OUT/train_ref.txt" "$OUT/train.log"
fi
if [ -x .device/bench_conv ]; then
    # The nn issue's convolution layer against cuDNN (torch, channels_last) in the same call.
    timeout 240 .device/bench_conv --device gpu > "$OUT/conv.txt" 2> "$OUT/conv.log"
    timeout 240 python3 scripts/conv_ref.py torch > "$OUT/conv_ref.txt" 2>> "$OUT/conv.log"
    cat "$OUT/conv.txt" "$OUT/conv_ref.txt"; tail -3 "$OUT/conv.log"
fi
if [ -x .device/mnist ]; then
    # Training epochs on the digits: wmx on the GPU against the same model in torch (CUDA).
    for m in mlp cnn; do
        timeout 200 .device/mnist --device gpu --model "$m" --epochs 6 --quiet --plot "$OUT/mnist_$m.svg" 2>&1 | tail -4
        timeout 200 python3 scripts/mnist_ref.py --framework torch --device cuda --model "$m" --epochs 6 2>&1 | tail -2
    done | tee "$OUT/mnist.txt"
fi
if [ -x .device/bench_load ]; then
    timeout 200 .device/bench_load --device gpu 2>&1 | tail -6 | tee "$OUT/load.txt"
fi
if [ -x .device/bench_fast ]; then
    timeout 200 .device/bench_fast --device gpu > "$OUT/fast.txt" 2> "$OUT/fast.log"
    timeout 200 python3 scripts/fast_ref.py > "$OUT/fast_ref.txt" 2>> "$OUT/fast.log"
    cat "$OUT/fast.txt" "$OUT/fast_ref.txt"; tail -3 "$OUT/fast.log"
fi
if [ -x .device/bench_compile ]; then
    # The compile issue's rows: fused elementwise kernels and long chains against torch eager.
    timeout 200 .device/bench_compile --device gpu > "$OUT/compile.txt" 2> "$OUT/compile.log"
    timeout 300 python3 scripts/compile_ref.py > "$OUT/compile_ref.txt" 2>> "$OUT/compile.log"
    cat "$OUT/compile.txt" "$OUT/compile_ref.txt"; tail -3 "$OUT/compile.log"
fi
if [ -x .device/llm ]; then
    # examples/llm with random Llama-3.2-1B-shaped weights in f16 against the same model in torch.
    timeout 240 .device/llm --random 1b --dtype f16 --device gpu --warmup 1 --quiet 2>&1 | tee "$OUT/llm.txt"
    timeout 240 python3 tools/llm_torch.py --preset 1b --dtype f16 --warmup 1 2>&1 | tee "$OUT/llm_ref.txt"
fi
if [ -x .device/bench ] && [ -z "${SKIP_TABLE:-}" ]; then
    [ $# -gt 0 ] || set -- --large --probes
    .device/bench --list --device gpu "$@" > "$OUT/rows.txt"
    timeout 180 python3 scripts/torch_ref.py "$OUT/rows.txt" > "$OUT/torch.txt" 2> "$OUT/torch.log"
    timeout 300 .device/bench --device gpu --ref "$OUT/torch.txt" "$@" > "$OUT/bench.log" 2>&1
    cat "$OUT/bench.log"
fi
exit $status
