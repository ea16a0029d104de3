#!/usr/bin/env python3
"""The tiny Llama model of examples/llm and its MLX reference for tests/llm.rs.

Usage: python3 tools/gen_llm_fixture.py
Needs: pip install "mlx[cpu]" numpy "tokenizers==0.22.2" (the Rust crate's version).

Writes
- examples/llm/tiny/config.json, model.safetensors (bf16, Hugging Face names), tokenizer.json:
  a 2-layer Llama (hidden 32, 4 query heads of 16, 2 key/value heads, llama3 RoPE scaling, tied
  embeddings, vocabulary 256) with random weights, and a byte-level BPE trained on the text below.
- tests/fixtures/llm/reference.safetensors: f32 logits computed by the small Llama written here
  with plain mlx.core ops (its own RoPE, attention and cache; not mx.fast, not mlx-lm):
  prompt_logits [1, L, V] for the prompt pass, decode_logits [S, V] for S KV-cached decode steps
  fed the greedy tokens, greedy [S + 1] (the greedy continuation), plain_rope_logits [1, L, V]
  (the same prompt with the config's rope_scaling removed), and tokens drawn with explicit keys
  at temperature 0.8 (seed 7) and with top-p 0.9 (seed 11), the keys split as examples/llm does.
  Metadata: the prompt text and its token ids, the tokenizer check text, its ids and decoding.

Every decision the test checks exactly (greedy argmax, sampled tokens) is checked here to have a
margin far above float rounding, so wmx's logits (equal to these within ~1e-5) give the same
tokens; the cached decode is checked against a cache-free forward of the whole sequence.
"""
import json
import math
import os

import mlx.core as mx
import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = os.path.join(ROOT, "examples", "llm", "tiny")
FIX = os.path.join(ROOT, "tests", "fixtures", "llm")

CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 32,
    "intermediate_size": 96,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    # Wavelengths 2*pi*10000^(2i/16): 6.3 (< 32/4: kept), 19.9 (between 8 and 32: smoothed),
    # the rest (> 32: divided by the factor): every branch of the llama3 rule is used.
    "rope_scaling": {
        "rope_type": "llama3",
        "factor": 8.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 32,
    },
    "vocab_size": 256,
    "tie_word_embeddings": True,
    "max_position_embeddings": 128,
    "bos_token_id": 0,
    "eos_token_id": 1,
    "torch_dtype": "bfloat16",
}

CORPUS = """
The lighthouse keeper counted the ships that passed each evening and wrote their names in a
ledger with a green cover. Some nights the fog rolled in from the north and hid the water, and
then she counted the horns instead, one long note for the ferry and two short ones for the
fishing boats that went out before dawn. Her brother repaired clocks in the town below. He said
that every clock he opened told the same story: a spring wound too tight, a gear worn smooth, a
small piece of dust where no dust should be. They met on Sundays to trade bread for batteries,
and to argue about whether the tide was a clock or a ship. The children of the town learned to
read from her ledger, tracing the names of boats with their fingers: Margaret, North Star,
Little Pearl, the Patient Heron. When the keeper grew old the town bought an automatic lamp, but
nobody wanted to stop counting, so the children took turns at the window with the green book.
"""
PROMPT = "The keeper counted the ships that passed each evening, and her brother wound the clocks"
TOKENIZER_CHECK = "Her brother repaired clocks in the town."

rng = np.random.default_rng(2024)


def tokenizer():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=CONFIG["vocab_size"],
        special_tokens=["<|bos|>", "<|eos|>"],
        show_progress=False,
    )
    tok.train_from_iterator([line for line in CORPUS.split("\n") if line], trainer=trainer)
    assert tok.get_vocab_size() <= CONFIG["vocab_size"], tok.get_vocab_size()
    return tok


def weights():
    c = CONFIG
    h, hd, i = c["hidden_size"], c["head_dim"], c["intermediate_size"]
    nq, nkv, v = c["num_attention_heads"], c["num_key_value_heads"], c["vocab_size"]

    def lin(out_dim, in_dim):
        return rng.standard_normal((out_dim, in_dim)) / math.sqrt(in_dim)

    def norm():
        return 1.0 + 0.1 * rng.standard_normal(h)

    w = {"model.embed_tokens.weight": 0.3 * rng.standard_normal((v, h)), "model.norm.weight": norm()}
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = norm()
        w[p + "post_attention_layernorm.weight"] = norm()
        w[p + "self_attn.q_proj.weight"] = lin(nq * hd, h)
        w[p + "self_attn.k_proj.weight"] = lin(nkv * hd, h)
        w[p + "self_attn.v_proj.weight"] = lin(nkv * hd, h)
        w[p + "self_attn.o_proj.weight"] = lin(h, nq * hd)
        w[p + "mlp.gate_proj.weight"] = lin(i, h)
        w[p + "mlp.up_proj.weight"] = lin(i, h)
        w[p + "mlp.down_proj.weight"] = lin(h, i)
    # Stored as bf16 (as released checkpoints are); the reference computes in f32 from the
    # bf16 values, which f32 holds exactly.
    return {k: mx.array(a.astype(np.float32)).astype(mx.bfloat16) for k, a in w.items()}


def inv_freq(c):
    """Per-pair angular frequencies, with Llama 3's long-context scaling when configured."""
    hd, base = c["head_dim"], c["rope_theta"]
    f = 1.0 / base ** (np.arange(0, hd, 2, dtype=np.float64) / hd)
    rs = c.get("rope_scaling")
    if rs:
        assert rs["rope_type"] == "llama3"
        factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        out = []
        for fi in f:
            wavelen = 2 * math.pi / fi
            if wavelen < old / hi:
                out.append(fi)
            elif wavelen > old / lo:
                out.append(fi / factor)
            else:
                t = (old / wavelen - lo) / (hi - lo)
                out.append((1 - t) * fi / factor + t * fi)
        f = np.array(out)
    return mx.array(f.astype(np.float32))


class Cache:
    def __init__(self):
        self.k = self.v = None

    def add(self, k, v):
        self.k = k if self.k is None else mx.concatenate([self.k, k], axis=2)
        self.v = v if self.v is None else mx.concatenate([self.v, v], axis=2)
        return self.k, self.v


def rotate(x, start, freqs):
    """Hugging Face's rotate-half RoPE on [B, H, L, D], positions start.."""
    d = x.shape[-1] // 2
    pos = mx.arange(start, start + x.shape[2]).astype(mx.float32)
    ang = pos[:, None] * freqs[None, :]
    cos, sin = mx.cos(ang), mx.sin(ang)
    x1, x2 = x[..., :d], x[..., d:]
    return mx.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


def rms(x, w, eps):
    return x * mx.rsqrt(mx.mean(x * x, axis=-1, keepdims=True) + eps) * w


def forward(c, w, tokens, caches, freqs):
    """Logits [1, L, V] for `tokens` after what `caches` already hold."""
    nq, nkv, hd, eps = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"], c["rms_norm_eps"]
    f = {k: v.astype(mx.float32) for k, v in w.items()}
    x = f["model.embed_tokens.weight"][mx.array(tokens)][None]
    L = x.shape[1]
    start = 0 if caches[0].k is None else caches[0].k.shape[2]
    for l, cache in enumerate(caches):
        p = f"model.layers.{l}."
        h = rms(x, f[p + "input_layernorm.weight"], eps)
        q = (h @ f[p + "self_attn.q_proj.weight"].T).reshape(1, L, nq, hd).transpose(0, 2, 1, 3)
        k = (h @ f[p + "self_attn.k_proj.weight"].T).reshape(1, L, nkv, hd).transpose(0, 2, 1, 3)
        v = (h @ f[p + "self_attn.v_proj.weight"].T).reshape(1, L, nkv, hd).transpose(0, 2, 1, 3)
        k, v = cache.add(rotate(k, start, freqs), v)
        q = rotate(q, start, freqs)
        k, v = mx.repeat(k, nq // nkv, axis=1), mx.repeat(v, nq // nkv, axis=1)
        s = (q @ k.transpose(0, 1, 3, 2)) / math.sqrt(hd)
        total = k.shape[2]
        allowed = mx.arange(total)[None, :] <= (mx.arange(L)[:, None] + start)
        s = mx.where(allowed, s, -mx.inf)
        a = mx.softmax(s, axis=-1) @ v
        a = a.transpose(0, 2, 1, 3).reshape(1, L, nq * hd)
        x = x + a @ f[p + "self_attn.o_proj.weight"].T
        h = rms(x, f[p + "post_attention_layernorm.weight"], eps)
        g = h @ f[p + "mlp.gate_proj.weight"].T
        u = h @ f[p + "mlp.up_proj.weight"].T
        x = x + ((g * mx.sigmoid(g)) * u) @ f[p + "mlp.down_proj.weight"].T
    x = rms(x, f["model.norm.weight"], eps)
    return x @ f["model.embed_tokens.weight"].T


def margin(logits):
    """Gap between the largest and the second largest value."""
    s = np.sort(np.array(logits, dtype=np.float64))
    return s[-1] - s[-2]


def sample(logits, key, temp, top_p):
    """examples/llm's sampler in MLX on logits [1, V] (the batch axis matters: categorical draws
    other bits for [V]): temperature, then nucleus over ascending-sorted logits."""
    z = logits * (1.0 / temp)
    if top_p < 1.0:
        order = mx.argsort(z, axis=-1)
        zs = mx.take_along_axis(z, order, axis=-1)
        cum = mx.cumsum(mx.softmax(zs, axis=-1), axis=-1)
        keep = cum > (1.0 - top_p)
        thresh = np.array(cum - (1.0 - top_p))
        assert np.min(np.abs(thresh)) > 2e-5, "a token sits on the top-p boundary"
        zs = mx.where(keep, zs, -mx.inf)
        i = mx.random.categorical(zs, key=key)
        assert margin(np.array(zs + mx.random.gumbel(zs.shape, key=key))[0]) > 1e-3
        return int(mx.take_along_axis(order, i[:, None], axis=-1).item())
    assert margin(np.array(z + mx.random.gumbel(z.shape, key=key))[0]) > 1e-3
    return int(mx.random.categorical(z, key=key).item())


def generate(c, w, prompt, n, temp, top_p, seed, freqs):
    """n tokens drawn with keys split from key(seed) each step (examples/llm's schedule)."""
    key = mx.random.key(seed)
    caches = [Cache() for _ in range(c["num_hidden_layers"])]
    logits = forward(c, w, prompt, caches, freqs)[:, -1]
    out = []
    for _ in range(n):
        key, sub = mx.random.split(key)
        t = sample(logits, sub, temp, top_p)
        out.append(t)
        logits = forward(c, w, [t], caches, freqs)[:, -1]
    return out


def main():
    os.makedirs(TINY, exist_ok=True)
    os.makedirs(FIX, exist_ok=True)
    tok = tokenizer()
    tok.save(os.path.join(TINY, "tokenizer.json"))
    w = weights()
    mx.save_safetensors(os.path.join(TINY, "model.safetensors"), w, metadata={"format": "pt"})
    with open(os.path.join(TINY, "config.json"), "w") as fh:
        json.dump(CONFIG, fh, indent=2)
        fh.write("\n")

    c = CONFIG
    freqs = inv_freq(c)
    prompt = tok.encode(PROMPT).ids
    caches = [Cache() for _ in range(c["num_hidden_layers"])]
    prompt_logits = forward(c, w, prompt, caches, freqs)
    steps = 7
    greedy = [int(mx.argmax(prompt_logits[0, -1]).item())]
    assert margin(prompt_logits[0, -1]) > 1e-3
    decode = []
    for _ in range(steps):
        logits = forward(c, w, [greedy[-1]], caches, freqs)[0, -1]
        assert margin(logits) > 1e-3, "greedy step too close to a tie"
        decode.append(logits)
        greedy.append(int(mx.argmax(logits).item()))
    decode = mx.stack(decode)
    # The cache against a forward of the whole sequence without one.
    full = forward(c, w, prompt + greedy[:-1], [Cache() for _ in range(c["num_hidden_layers"])], freqs)
    np.testing.assert_allclose(np.array(full[0, len(prompt) - 1 :][1:]), np.array(decode), rtol=1e-4, atol=1e-4)

    plain = dict(c)
    plain.pop("rope_scaling")
    plain_logits = forward(plain, w, prompt, [Cache() for _ in range(c["num_hidden_layers"])], inv_freq(plain))
    assert not np.allclose(np.array(plain_logits), np.array(prompt_logits), atol=1e-3)

    temp_tokens = generate(c, w, prompt, 8, 0.8, 1.0, 7, freqs)
    top_p_tokens = generate(c, w, prompt, 8, 1.0, 0.9, 11, freqs)

    check = tok.encode(TOKENIZER_CHECK).ids
    ref = {
        "prompt": mx.array(prompt, dtype=mx.int32),
        "prompt_logits": prompt_logits,
        "decode_logits": decode,
        "greedy": mx.array(greedy, dtype=mx.int32),
        "plain_rope_logits": plain_logits,
        "temp_tokens": mx.array(temp_tokens, dtype=mx.int32),
        "top_p_tokens": mx.array(top_p_tokens, dtype=mx.int32),
    }
    meta = {
        "mlx_version": mx.__version__,
        "generator": "tools/gen_llm_fixture.py",
        "prompt_text": PROMPT,
        "tokenizer_text": TOKENIZER_CHECK,
        "tokenizer_ids": ",".join(map(str, check)),
        "tokenizer_decoded": tok.decode(check),
    }
    mx.save_safetensors(os.path.join(FIX, "reference.safetensors"), ref, metadata=meta)
    print("prompt", prompt, "greedy", greedy, "temp", temp_tokens, "top_p", top_p_tokens)
    for name in ["config.json", "model.safetensors", "tokenizer.json"]:
        print(name, os.path.getsize(os.path.join(TINY, name)), "bytes")
    print("reference.safetensors", os.path.getsize(os.path.join(FIX, "reference.safetensors")), "bytes")


if __name__ == "__main__":
    main()
