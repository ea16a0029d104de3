//! Text generation with a Llama-architecture decoder on wmx: weights from safetensors under
//! Hugging Face's names with their config.json, or random weights for benchmarks; greedy,
//! temperature or top-p sampling with explicit keys; the `tokenizers` crate when the model
//! directory has a tokenizer.json (token ids otherwise). Prints the continuation, then prompt
//! and generation speed in tokens per second.
//!
//! ```sh
//! # the tiny model shipped in the repository (runs on a fresh clone):
//! cargo run --example llm -- --model examples/llm/tiny --tokens 1,2,3 --max-tokens 8
//! cargo run --example llm -- --model examples/llm/tiny --prompt "The keeper" --temp 0.8 --seed 1
//! # a Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer.json):
//! cargo run --release --example llm -- --model ~/Llama-3.2-1B --prompt "Hello" --dtype f16
//! # the benchmark: random weights shaped like Llama 3.2 1B, f16, prompt 512, 128 new tokens
//! # (same line format as tools/llm_torch.py):
//! cargo run --release --example llm -- --random 1b --dtype f16 --device gpu --warmup 1
//! ```
//!
//! Options: `--model DIR` | `--random 1b|small|tiny|CONFIG.json` (with `--layers N` to shorten
//! it), `--prompt TEXT` | `--tokens 1,2,3` | `--prompt-len N` (random ids; default 512 with
//! `--random`), `--max-tokens N` (default 128), `--temp T` (0 = greedy, the default),
//! `--top-p P`, `--seed S`, `--device cpu|gpu`, `--dtype f32|f16|bf16` (default f32),
//! `--warmup N` (untimed runs first), `--ignore-eos`, `--quiet` (no tokens, only the speeds).
//!
//! Output format of the two timing lines (parsed by scripts; the torch reference prints the
//! same): `prompt: <n> tokens in <s> s, <r> tokens/s` where the time runs from the prompt's
//! forward pass to the first sampled token on the host, and `generation: <n> tokens in <s> s,
//! <r> tokens/s` over the decode steps after it (`max-tokens - 1` steps, one token each).

mod config;
mod model;
mod sampling;

use config::{Config, LlmError};
use model::Llama;
use sampling::{Sampler, Sampling};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use wmx::{self as mx, Array, Device, DeviceType, Dtype};

struct Args {
    model: Option<PathBuf>,
    random: Option<String>,
    layers: Option<i32>,
    prompt: Option<String>,
    tokens: Option<Vec<u32>>,
    prompt_len: Option<usize>,
    max_tokens: usize,
    sampling: Sampling,
    seed: u64,
    device: Device,
    dtype: Dtype,
    warmup: usize,
    ignore_eos: bool,
    quiet: bool,
}

const USAGE: &str = "usage: llm (--model DIR | --random 1b|small|tiny|CONFIG.json [--layers N]) \
[--prompt TEXT | --tokens 1,2,3 | --prompt-len N] [--max-tokens N] [--temp T] [--top-p P] \
[--seed S] [--device cpu|gpu] [--dtype f32|f16|bf16] [--warmup N] [--ignore-eos] [--quiet]";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        model: None,
        random: None,
        layers: None,
        prompt: None,
        tokens: None,
        prompt_len: None,
        max_tokens: 128,
        sampling: Sampling::GREEDY,
        seed: 0,
        device: mx::default_device(),
        dtype: Dtype::Float32,
        warmup: 0,
        ignore_eos: false,
        quiet: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or(format!("{flag} needs a value"));
        fn num<T: std::str::FromStr>(flag: &str, v: String) -> Result<T, String> {
            v.parse()
                .map_err(|_| format!("{flag}: cannot read {v:?} as a number"))
        }
        match flag.as_str() {
            "--model" => a.model = Some(PathBuf::from(val()?)),
            "--random" => a.random = Some(val()?),
            "--layers" => a.layers = Some(num(&flag, val()?)?),
            "--prompt" => a.prompt = Some(val()?),
            "--tokens" => {
                let v = val()?;
                let ids = v
                    .split(',')
                    .map(|t| t.trim().parse::<u32>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| format!("--tokens: {v:?} is not a list like 1,2,3"))?;
                a.tokens = Some(ids);
            }
            "--prompt-len" => a.prompt_len = Some(num(&flag, val()?)?),
            "--max-tokens" => a.max_tokens = num(&flag, val()?)?,
            "--temp" => a.sampling.temp = num(&flag, val()?)?,
            "--top-p" => a.sampling.top_p = num(&flag, val()?)?,
            "--seed" => a.seed = num(&flag, val()?)?,
            "--warmup" => a.warmup = num(&flag, val()?)?,
            "--device" => {
                a.device = match val()?.as_str() {
                    "cpu" => Device::cpu(),
                    "gpu" if mx::device_count(DeviceType::Gpu) > 0 => Device::gpu(0),
                    "gpu" => return Err("--device gpu: wgpu found no GPU adapter".into()),
                    d => return Err(format!("--device: unknown device {d:?} (cpu or gpu)")),
                }
            }
            "--dtype" => {
                a.dtype = match val()?.as_str() {
                    "f32" | "float32" => Dtype::Float32,
                    "f16" | "float16" => Dtype::Float16,
                    "bf16" | "bfloat16" => Dtype::Bfloat16,
                    d => return Err(format!("--dtype: unknown dtype {d:?} (f32, f16 or bf16)")),
                }
            }
            "--ignore-eos" => a.ignore_eos = true,
            "--quiet" => a.quiet = true,
            "--help" | "-h" => return Err(USAGE.into()),
            f => return Err(format!("unknown option {f}\n{USAGE}")),
        }
    }
    if a.model.is_some() == a.random.is_some() {
        return Err(format!("give one of --model and --random\n{USAGE}"));
    }
    let prompts = [
        a.prompt.is_some(),
        a.tokens.is_some(),
        a.prompt_len.is_some(),
    ];
    if prompts.iter().filter(|&&p| p).count() > 1 {
        return Err("give at most one of --prompt, --tokens and --prompt-len".into());
    }
    if a.max_tokens == 0 {
        return Err("--max-tokens must be at least 1".into());
    }
    Ok(a)
}

/// Token ids (as `tokenizers` gives them) or ids printed as they are.
enum Vocab {
    Tokenizer(Box<tokenizers::Tokenizer>),
    Ids,
}

impl Vocab {
    fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
        match self {
            Vocab::Tokenizer(t) => Ok(t
                .encode(text, true)
                .map_err(|e| format!("tokenizer: {e}"))?
                .get_ids()
                .to_vec()),
            Vocab::Ids => Err("--prompt needs a tokenizer.json in the model directory; \
                 give token ids with --tokens"
                .into()),
        }
    }

    /// The text of `ids` (only with a tokenizer).
    fn decode(&self, ids: &[u32]) -> String {
        match self {
            Vocab::Tokenizer(t) => t.decode(ids, false).unwrap_or_default(),
            Vocab::Ids => String::new(),
        }
    }
}

/// Prints generated tokens as they come: the new suffix of the decoded text.
struct Printer<'a> {
    vocab: &'a Vocab,
    ids: Vec<u32>,
    shown: String,
    quiet: bool,
}

impl Printer<'_> {
    fn push(&mut self, id: u32) {
        self.ids.push(id);
        if self.quiet {
            return;
        }
        match self.vocab {
            Vocab::Ids => print!("{}{id}", if self.ids.len() > 1 { " " } else { "" }),
            Vocab::Tokenizer(_) => {
                let text = self.vocab.decode(&self.ids);
                // A token that ends a multi-byte character changes the text before it: wait
                // until the text extends what is shown.
                if let Some(new) = text.strip_prefix(&self.shown) {
                    print!("{new}");
                    self.shown = text;
                }
            }
        }
        let _ = std::io::stdout().flush();
    }
}

struct Timing {
    prompt_tokens: usize,
    prompt: Duration,
    generated: usize,
    generation: Duration,
}

/// Runs the prompt, then decodes up to `max_tokens` tokens (fewer at an end-of-sequence token),
/// each fed back as the next input without a trip through the host: step `n + 1` is built and
/// started while step `n`'s token is read.
fn generate(
    model: &Llama,
    prompt: &[u32],
    max_tokens: usize,
    sampler: &mut Sampler,
    eos: &[u32],
    mut emit: impl FnMut(u32),
) -> Result<Timing, LlmError> {
    let vocab = model.config.vocab_size;
    let mut cache = model.new_cache();
    let step = |tokens: &Array, cache: &mut [model::KvCache], sampler: &mut Sampler| {
        let logits = model.forward(tokens, cache, true)?;
        let logits = mx::reshape(&logits, &[-1, vocab], None)?;
        let y = sampler.sample(&logits)?;
        Ok::<Array, LlmError>(mx::reshape(&y, &[-1, 1], None)?)
    };
    let start = Instant::now();
    let ids: Vec<i32> = prompt.iter().map(|&t| t as i32).collect();
    let tokens = Array::from_slice(&ids, &[1, ids.len() as i32]);
    let mut y = step(&tokens, &mut cache, sampler)?;
    y.eval()?;
    let first = y.item::<u32>()?;
    let prompt_time = start.elapsed();
    emit(first);
    let start = Instant::now();
    let (mut steps, mut generated) = (0, 0);
    let mut done = eos.contains(&first);
    let mut pending: Option<(Array, mx::Evaluation)> = None;
    while !done && steps + 1 < max_tokens {
        let next = step(&y, &mut cache, sampler)?;
        let started = mx::async_eval([&next]);
        steps += 1;
        if let Some((prev, ev)) = pending.replace((next.clone(), started)) {
            ev.wait()?;
            let t = prev.item::<u32>()?;
            emit(t);
            generated += 1;
            done = eos.contains(&t);
        }
        y = next;
    }
    if let Some((last, ev)) = pending {
        ev.wait()?;
        if !done {
            emit(last.item::<u32>()?);
            generated += 1;
        }
    }
    Ok(Timing {
        prompt_tokens: prompt.len(),
        prompt: prompt_time,
        generated,
        generation: start.elapsed(),
    })
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let _device = mx::stream(args.device);
    let load_start = Instant::now();
    let (model, vocab) = match (&args.model, &args.random) {
        (Some(dir), _) => {
            let model = Llama::load(dir, args.dtype)?;
            let tj = dir.join("tokenizer.json");
            let vocab = if tj.exists() {
                let t = tokenizers::Tokenizer::from_file(&tj)
                    .map_err(|e| format!("{}: {e}", tj.display()))?;
                Vocab::Tokenizer(Box::new(t))
            } else {
                Vocab::Ids
            };
            (model, vocab)
        }
        (None, Some(spec)) => {
            let mut config = match Config::preset(spec) {
                Some(c) => c,
                None if spec.ends_with(".json") => Config::from_file(spec.as_ref())?,
                None => {
                    return Err(format!(
                        "--random: {spec:?} is neither a preset (1b, small, tiny) nor a .json file"
                    )
                    .into());
                }
            };
            if let Some(n) = args.layers {
                config.num_hidden_layers = n;
            }
            (Llama::random(config, args.dtype, args.seed)?, Vocab::Ids)
        }
        (None, None) => unreachable!("parse_args requires --model or --random"),
    };
    let c = &model.config;
    let device = match mx::device_info(args.device) {
        Ok(i) if args.device.kind == DeviceType::Gpu => {
            let coop = if i.cooperative_matrix {
                ", cooperative matrices"
            } else {
                ""
            };
            format!("{} ({}{coop})", i.name, i.backend)
        }
        _ => "cpu".to_string(),
    };
    eprintln!(
        "model: {} layers, hidden {}, {} heads ({} key/value) of {}, vocabulary {}, {:.3} B \
         parameters, {} on {device}; ready in {:.2} s",
        c.num_hidden_layers,
        c.hidden_size,
        c.num_attention_heads,
        c.num_key_value_heads,
        c.head_dim,
        c.vocab_size,
        c.num_parameters() as f64 / 1e9,
        args.dtype,
        load_start.elapsed().as_secs_f64()
    );
    let prompt: Vec<u32> = if let Some(text) = &args.prompt {
        vocab.encode(text)?
    } else if let Some(ids) = &args.tokens {
        ids.clone()
    } else {
        let n = args
            .prompt_len
            .unwrap_or(if args.random.is_some() { 512 } else { 0 });
        if n == 0 {
            return Err("give a prompt: --prompt TEXT, --tokens 1,2,3 or --prompt-len N".into());
        }
        // Deterministic ids spread over the vocabulary (xorshift from the seed).
        let mut s = args.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s % c.vocab_size as u64) as u32
            })
            .collect()
    };
    if prompt.is_empty() {
        return Err("the prompt has no tokens".into());
    }
    model.check_tokens(&prompt)?;
    let total = prompt.len() + args.max_tokens;
    if total > c.max_position_embeddings as usize {
        return Err(LlmError::Input(format!(
            "prompt ({}) plus --max-tokens ({}) exceeds max_position_embeddings ({})",
            prompt.len(),
            args.max_tokens,
            c.max_position_embeddings
        ))
        .into());
    }
    let eos: &[u32] = if args.ignore_eos {
        &[]
    } else {
        &c.eos_token_ids
    };
    for _ in 0..args.warmup {
        let mut s = Sampler::new(args.sampling, args.seed)?;
        generate(&model, &prompt, args.max_tokens.min(4), &mut s, &[], |_| {})?;
    }
    if std::env::var_os("WMX_PROFILE").is_some() {
        // The prompt's kernels alone (one untimed prompt pass), longest first.
        mx::gpu_kernel_times()?;
        let mut s = Sampler::new(args.sampling, args.seed)?;
        generate(&model, &prompt, 1, &mut s, &[], |_| {})?;
        let times = mx::gpu_kernel_times()?;
        let total: f64 = times.iter().map(|k| k.seconds).sum();
        eprintln!("prompt: GPU time {:.3} ms", total * 1e3);
        for k in times.iter().take(25) {
            eprintln!(
                "  {:>9.1} µs {:>4}×  {}",
                k.seconds * 1e6,
                k.count,
                k.kernel
            );
        }
    }
    let mut printer = Printer {
        vocab: &vocab,
        ids: Vec::new(),
        shown: String::new(),
        quiet: args.quiet,
    };
    let mut sampler = Sampler::new(args.sampling, args.seed)?;
    let t = generate(&model, &prompt, args.max_tokens, &mut sampler, eos, |id| {
        printer.push(id)
    })?;
    if !args.quiet {
        println!();
    }
    println!(
        "prompt: {} tokens in {:.4} s, {:.1} tokens/s",
        t.prompt_tokens,
        t.prompt.as_secs_f64(),
        rate(t.prompt_tokens, t.prompt)
    );
    println!(
        "generation: {} tokens in {:.4} s, {:.1} tokens/s",
        t.generated,
        t.generation.as_secs_f64(),
        rate(t.generated, t.generation)
    );
    if args.device.kind == DeviceType::Gpu {
        eprintln!("peak memory: {:.2} GB", mx::get_peak_memory() as f64 / 1e9);
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
