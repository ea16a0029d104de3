#!/usr/bin/env python3
"""The reference for examples/llm's benchmark: the same Llama decoder in plain PyTorch (eager,
no compile, no extra kernels: F.linear, a Hugging Face-style RMSNorm and rotate-half RoPE,
torch's own F.scaled_dot_product_attention with grouped-query attention, a KV cache grown by
torch.cat as transformers' DynamicCache does), random weights, greedy decoding.

It measures what examples/llm measures and prints the same two lines:
    prompt: <n> tokens in <s> s, <r> tokens/s
    generation: <n> tokens in <s> s, <r> tokens/s
The prompt time runs from the prompt's forward pass to the first token on the host; generation
is the `max-tokens - 1` decode steps after it, each step launched before the previous token is
read (the same one-step lookahead as the wmx example).

    python3 tools/llm_torch.py --preset 1b --dtype f16 --warmup 1
    cargo run --release --example llm -- --random 1b --dtype f16 --device gpu --warmup 1 --quiet

Defaults match the example's `--random` run: prompt of 512 random ids, 128 generated tokens.
"""
import argparse
import math
import sys
import time

import torch
import torch.nn.functional as F

# The shapes of examples/llm/config.rs's presets.
PRESETS = {
    "1b": dict(hidden=2048, inter=8192, layers=16, heads=32, kv_heads=8, head_dim=64, vocab=128256,
               theta=500000.0, eps=1e-5,
               llama3=dict(factor=32.0, low=1.0, high=4.0, original=8192.0)),
    "small": dict(hidden=512, inter=2048, layers=4, heads=8, kv_heads=2, head_dim=64, vocab=32000,
                  theta=500000.0, eps=1e-5,
                  llama3=dict(factor=32.0, low=1.0, high=4.0, original=8192.0)),
    "tiny": dict(hidden=32, inter=96, layers=2, heads=4, kv_heads=2, head_dim=16, vocab=256,
                 theta=10000.0, eps=1e-5, llama3=None),
}
DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


def inv_freq(c):
    """Per-pair RoPE frequencies, with Llama 3's long-context scaling when configured."""
    hd = c["head_dim"]
    f = [c["theta"] ** (-2.0 * i / hd) for i in range(hd // 2)]
    s = c["llama3"]
    if s:
        out = []
        for fi in f:
            wavelen = 2 * math.pi / fi
            if wavelen < s["original"] / s["high"]:
                out.append(fi)
            elif wavelen > s["original"] / s["low"]:
                out.append(fi / s["factor"])
            else:
                t = (s["original"] / wavelen - s["low"]) / (s["high"] - s["low"])
                out.append((1 - t) * fi / s["factor"] + t * fi)
        f = out
    return torch.tensor(f, dtype=torch.float32)


def rms_norm(x, w, eps):
    """Hugging Face's LlamaRMSNorm: statistics in f32, the weight applied in the model dtype."""
    xf = x.float()
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return w * xf.to(x.dtype)


def rotate_half(x):
    d = x.shape[-1] // 2
    return torch.cat([-x[..., d:], x[..., :d]], dim=-1)


try:  # enable_gqa arrived in torch 2.5; before it, key/value heads are repeated
    _kv = torch.zeros(1, 1, 1, 4)
    F.scaled_dot_product_attention(torch.zeros(1, 2, 1, 4), _kv, _kv, enable_gqa=True)
    HAS_GQA = True
except TypeError:
    HAS_GQA = False


class Llama:
    def __init__(self, c, dtype, device, seed, max_len):
        self.c, self.dtype, self.device = c, dtype, device
        g = torch.Generator(device=device).manual_seed(seed)
        h, hd, i = c["hidden"], c["head_dim"], c["inter"]
        q, kv = c["heads"] * hd, c["kv_heads"] * hd

        def w(*shape):  # [out, in], as Hugging Face stores them
            return (torch.randn(*shape, generator=g, device=device, dtype=torch.float32) * 0.02).to(dtype)

        self.embed = w(c["vocab"], h)
        self.head = self.embed  # tied, as Llama 3.2 1B
        self.norm = torch.ones(h, dtype=dtype, device=device)
        self.layers = [
            dict(wq=w(q, h), wk=w(kv, h), wv=w(kv, h), wo=w(h, q), gate=w(i, h), up=w(i, h), down=w(h, i),
                 ln1=torch.ones(h, dtype=dtype, device=device), ln2=torch.ones(h, dtype=dtype, device=device))
            for _ in range(c["layers"])
        ]
        # cos/sin per position in f32, cast to the model dtype (as transformers does).
        ang = torch.arange(max_len, dtype=torch.float32)[:, None] * inv_freq(c)[None, :]
        ang = torch.cat([ang, ang], dim=-1).to(device)
        self.cos, self.sin = ang.cos().to(dtype), ang.sin().to(dtype)

    def forward(self, tokens, cache, last_only):
        c = self.c
        b, l = tokens.shape
        hd, nq, nkv = c["head_dim"], c["heads"], c["kv_heads"]
        offset = 0 if cache[0] is None else cache[0][0].shape[2]
        cos, sin = self.cos[offset:offset + l], self.sin[offset:offset + l]
        x = F.embedding(tokens, self.embed)
        for n, p in enumerate(self.layers):
            h = rms_norm(x, p["ln1"], c["eps"])
            q = F.linear(h, p["wq"]).view(b, l, nq, hd).transpose(1, 2)
            k = F.linear(h, p["wk"]).view(b, l, nkv, hd).transpose(1, 2)
            v = F.linear(h, p["wv"]).view(b, l, nkv, hd).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            if cache[n] is not None:
                k = torch.cat([cache[n][0], k], dim=2)
                v = torch.cat([cache[n][1], v], dim=2)
            cache[n] = (k, v)
            mask, causal = None, False
            if l > 1 and offset == 0:
                causal = True
            elif l > 1:  # queries aligned to the end of the keys
                t = k.shape[2]
                mask = torch.arange(t, device=x.device)[None, :] <= (torch.arange(l, device=x.device)[:, None] + offset)
            if HAS_GQA:
                o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal, enable_gqa=True)
            else:
                r = nq // nkv
                o = F.scaled_dot_product_attention(q, k.repeat_interleave(r, 1), v.repeat_interleave(r, 1),
                                                   attn_mask=mask, is_causal=causal)
            x = x + F.linear(o.transpose(1, 2).reshape(b, l, nq * hd), p["wo"])
            h = rms_norm(x, p["ln2"], c["eps"])
            x = x + F.linear(F.silu(F.linear(h, p["gate"])) * F.linear(h, p["up"]), p["down"])
        if last_only:
            x = x[:, -1:]
        return F.linear(rms_norm(x, self.norm, c["eps"]), self.head)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def generate(model, prompt, max_tokens):
    """(prompt seconds, generated count, generation seconds, tokens)."""
    cache = [None] * model.c["layers"]

    def step(tokens):
        return model.forward(tokens, cache, True)[:, -1].argmax(-1, keepdim=True)

    sync(model.device)
    start = time.perf_counter()
    y = step(prompt)
    out = [y.item()]
    prompt_s = time.perf_counter() - start
    start = time.perf_counter()
    pending = None
    for _ in range(max_tokens - 1):
        nxt = step(y)
        if pending is not None:
            out.append(pending.item())
        pending = y = nxt
    if pending is not None:
        out.append(pending.item())
    gen_s = time.perf_counter() - start
    return prompt_s, len(out) - 1, gen_s, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default="1b", choices=sorted(PRESETS))
    ap.add_argument("--layers", type=int, help="override the preset's layer count")
    ap.add_argument("--dtype", default="f16", choices=sorted(DTYPES))
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--prompt-len", type=int, default=512)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=0, help="untimed runs first")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    c = dict(PRESETS[a.preset])
    if a.layers:
        c["layers"] = a.layers
    device = torch.device(a.device)
    dtype = DTYPES[a.dtype]
    torch.backends.cuda.matmul.allow_tf32 = False
    with torch.inference_mode():
        model = Llama(c, dtype, device, a.seed, a.prompt_len + a.max_tokens)
        g = torch.Generator(device="cpu").manual_seed(a.seed)
        prompt = torch.randint(0, c["vocab"], (1, a.prompt_len), generator=g).to(device)
        for _ in range(a.warmup):
            generate(model, prompt, min(a.max_tokens, 4))
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        prompt_s, n, gen_s, _ = generate(model, prompt, a.max_tokens)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"torch {torch.__version__} on {name}, {a.preset} ({c['layers']} layers) {a.dtype}, "
          f"gqa in sdpa: {HAS_GQA}", file=sys.stderr)
    print(f"prompt: {a.prompt_len} tokens in {prompt_s:.4f} s, {a.prompt_len / prompt_s:.1f} tokens/s")
    print(f"generation: {n} tokens in {gen_s:.4f} s, {n / max(gen_s, 1e-9):.1f} tokens/s")
    if device.type == "cuda":
        print(f"peak memory: {torch.cuda.max_memory_allocated(device) / 1e9:.2f} GB", file=sys.stderr)


if __name__ == "__main__":
    main()
