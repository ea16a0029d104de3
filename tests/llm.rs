//! examples/llm's Llama decoder against MLX: the tiny model shipped in examples/llm/tiny and the
//! reference in tests/fixtures/llm (both written by tools/gen_llm_fixture.py) — prompt logits,
//! KV-cached decode logits, the greedy continuation, RoPE without its llama3 scaling, tokens
//! drawn with explicit keys (temperature, top-p), f16/bf16 within their precision — on the CPU
//! and the GPU; the tokenizer against Hugging Face's Python `tokenizers`; and bad configs,
//! weight files and inputs as clear errors.

#[path = "../examples/llm/config.rs"]
#[allow(dead_code)]
mod config;
#[path = "../examples/llm/model.rs"]
#[allow(dead_code)]
mod model;
#[path = "../examples/llm/sampling.rs"]
#[allow(dead_code)]
mod sampling;
#[macro_use]
mod common;

use config::{Config, LlmError};
use model::Llama;
use sampling::{Sampler, Sampling};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use wmx::{self as mx, Array, Device, Dtype};

fn tiny_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/llm/tiny")
}

struct Reference {
    arrays: HashMap<String, Array>,
    meta: HashMap<String, String>,
}

fn reference() -> Reference {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/llm/reference.safetensors");
    let (arrays, meta) = mx::load_safetensors(p, Device::cpu()).unwrap();
    Reference { arrays, meta }
}

impl Reference {
    fn f32(&self, name: &str) -> Vec<f32> {
        self.arrays[name].to_vec::<f32>().unwrap()
    }
    fn ids(&self, name: &str) -> Vec<u32> {
        self.arrays[name]
            .to_vec::<i32>()
            .unwrap()
            .into_iter()
            .map(|t| t as u32)
            .collect()
    }
}

/// `|got - want| <= tol * (max|want| + |want|)` elementwise: `tol` relative to the logits' scale.
#[track_caller]
fn assert_logits(what: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(0f32, |m, w| m.max(w.abs()));
    let (i, err) = got
        .iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() - tol * w.abs())
        .enumerate()
        .fold((0, f32::MIN), |a, (i, e)| if e > a.1 { (i, e) } else { a });
    if std::env::var("LLM_TEST_SHOW").is_ok() {
        let worst = got
            .iter()
            .zip(want)
            .map(|(g, w)| (g - w).abs() / (scale + w.abs()))
            .fold(0f32, f32::max);
        eprintln!("{what}: worst error {worst:.3e} (tolerance {tol:.0e})");
    }
    assert!(
        err <= tol * scale,
        "{what}: element {i} got {} want {} (tolerance {tol} of scale {scale})",
        got[i],
        want[i]
    );
}

fn tokens(ids: &[u32]) -> Array {
    let v: Vec<i32> = ids.iter().map(|&t| t as i32).collect();
    Array::from_slice(&v, &[1, v.len() as i32])
}

fn argmax(v: &[f32]) -> u32 {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best as u32
}

/// Prompt logits, then one KV-cached step per greedy token: every logit row and every argmax.
fn check_prompt_and_decode(model: &Llama, r: &Reference, tol: f32, exact_greedy: bool) {
    let v = model.config.vocab_size as usize;
    let prompt = r.ids("prompt");
    let greedy = r.ids("greedy");
    let mut cache = model.new_cache();
    let logits = model.forward(&tokens(&prompt), &mut cache, false).unwrap();
    assert_eq!(logits.shape(), &[1, prompt.len() as i32, v as i32]);
    let got = logits.to_vec::<f32>().unwrap();
    assert_logits("prompt logits", &got, &r.f32("prompt_logits"), tol);
    let mut picked = vec![argmax(&got[got.len() - v..])];
    let want = r.f32("decode_logits");
    for (step, &t) in greedy[..greedy.len() - 1].iter().enumerate() {
        let l = model.forward(&tokens(&[t]), &mut cache, true).unwrap();
        assert_eq!(l.shape(), &[1, 1, v as i32]);
        let got = l.to_vec::<f32>().unwrap();
        assert_logits(
            &format!("decode step {step}"),
            &got,
            &want[step * v..(step + 1) * v],
            tol,
        );
        picked.push(argmax(&got));
    }
    assert_eq!(
        cache[0].positions() as usize,
        prompt.len() + greedy.len() - 1
    );
    if exact_greedy {
        assert_eq!(picked, greedy, "greedy continuation");
    }
}

/// Tokens drawn the way tools/gen_llm_fixture.py's `generate` draws them.
fn draw(model: &Llama, prompt: &[u32], n: usize, sampling: Sampling, seed: u64) -> Vec<u32> {
    let v = model.config.vocab_size;
    let mut sampler = Sampler::new(sampling, seed).unwrap();
    let mut cache = model.new_cache();
    let mut logits = model.forward(&tokens(prompt), &mut cache, true).unwrap();
    let mut out = Vec::new();
    for _ in 0..n {
        let flat = mx::reshape(&logits, &[1, v], None).unwrap();
        let t = sampler.sample(&flat).unwrap();
        let t = t.to_vec::<u32>().unwrap()[0];
        out.push(t);
        logits = model.forward(&tokens(&[t]), &mut cache, true).unwrap();
    }
    out
}

device_tests! {
    fn prompt_and_decode_match_mlx_f32(dev: Device) {
        let _s = mx::stream(dev);
        let model = Llama::load(&tiny_dir(), Dtype::Float32).unwrap();
        check_prompt_and_decode(&model, &reference(), 2e-5, true);
    }

    fn last_only_is_the_last_row(dev: Device) {
        let _s = mx::stream(dev);
        let model = Llama::load(&tiny_dir(), Dtype::Float32).unwrap();
        let r = reference();
        let prompt = r.ids("prompt");
        let l = model.forward(&tokens(&prompt), &mut model.new_cache(), true).unwrap();
        assert_eq!(l.shape(), &[1, 1, 256]);
        let want = r.f32("prompt_logits");
        assert_logits("last row", &l.to_vec::<f32>().unwrap(), &want[want.len() - 256..], 2e-5);
    }

    fn chunked_prompt_uses_the_cache(dev: Device) {
        // The prompt in two pieces: the second runs causal attention after a cache.
        let _s = mx::stream(dev);
        let model = Llama::load(&tiny_dir(), Dtype::Float32).unwrap();
        let r = reference();
        let prompt = r.ids("prompt");
        let mut cache = model.new_cache();
        model.forward(&tokens(&prompt[..10]), &mut cache, false).unwrap().eval().unwrap();
        let l = model.forward(&tokens(&prompt[10..]), &mut cache, false).unwrap();
        let want = r.f32("prompt_logits");
        assert_logits("second chunk", &l.to_vec::<f32>().unwrap(), &want[10 * 256..], 2e-5);
    }

    fn plain_rope_matches_mlx(dev: Device) {
        let _s = mx::stream(dev);
        let dir = tiny_dir();
        let mut config = Config::from_file(&dir.join("config.json")).unwrap();
        assert!(config.rope_scaling.is_some());
        config.rope_scaling = None;
        let (w, _) = mx::load_safetensors(dir.join("model.safetensors"), None).unwrap();
        let model = Llama::from_weights(config, w, Dtype::Float32).unwrap();
        let r = reference();
        let l = model.forward(&tokens(&r.ids("prompt")), &mut model.new_cache(), false).unwrap();
        assert_logits("plain rope", &l.to_vec::<f32>().unwrap(), &r.f32("plain_rope_logits"), 2e-5);
    }

    fn sampling_matches_mlx_keys(dev: Device) {
        let _s = mx::stream(dev);
        let model = Llama::load(&tiny_dir(), Dtype::Float32).unwrap();
        let r = reference();
        let prompt = r.ids("prompt");
        let temp = Sampling { temp: 0.8, top_p: 1.0 };
        assert_eq!(draw(&model, &prompt, 8, temp, 7), r.ids("temp_tokens"), "temperature 0.8, seed 7");
        let top_p = Sampling { temp: 1.0, top_p: 0.9 };
        assert_eq!(draw(&model, &prompt, 8, top_p, 11), r.ids("top_p_tokens"), "top-p 0.9, seed 11");
        // Greedy through the sampler, and a nucleus too small to hold more than the top token.
        let greedy = r.ids("greedy");
        assert_eq!(draw(&model, &prompt, 8, Sampling::GREEDY, 0), greedy);
        let narrow = Sampling { temp: 1.0, top_p: 1e-6 };
        assert_eq!(draw(&model, &prompt, 8, narrow, 3), greedy);
    }

    fn half_precision_within_its_rounding(dev: Device) {
        // f16 and bf16 weights and activations against the f32 reference: tolerances 3-5 times
        // the worst error measured on the CPU and lavapipe (f16 1.1e-3, bf16 1.2e-2 of the
        // logits' scale; f32 is within 7e-7, checked at 2e-5).
        let _s = mx::stream(dev);
        let r = reference();
        let f16 = Llama::load(&tiny_dir(), Dtype::Float16).unwrap();
        check_prompt_and_decode(&f16, &r, 5e-3, false);
        let bf16 = Llama::load(&tiny_dir(), Dtype::Bfloat16).unwrap();
        check_prompt_and_decode(&bf16, &r, 4e-2, false);
    }

    fn random_weights_run_and_repeat(dev: Device) {
        let _s = mx::stream(dev);
        let config = Config::preset("tiny").unwrap();
        let a = Llama::random(config.clone(), Dtype::Float32, 5).unwrap();
        let b = Llama::random(config, Dtype::Float32, 5).unwrap();
        let t = tokens(&[1, 2, 3, 4]);
        let la = a.forward(&t, &mut a.new_cache(), false).unwrap().to_vec::<f32>().unwrap();
        let lb = b.forward(&t, &mut b.new_cache(), false).unwrap().to_vec::<f32>().unwrap();
        assert_eq!(la, lb);
        assert!(la.iter().all(|x| x.is_finite()) && la.iter().any(|&x| x != 0.0));
    }
}

#[test]
fn tokenizer_matches_python_tokenizers() {
    let r = reference();
    let t = tokenizers::Tokenizer::from_file(tiny_dir().join("tokenizer.json")).unwrap();
    let enc = t.encode(r.meta["tokenizer_text"].as_str(), true).unwrap();
    let want: Vec<u32> = r.meta["tokenizer_ids"]
        .split(',')
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(enc.get_ids(), want.as_slice());
    assert_eq!(t.decode(&want, false).unwrap(), r.meta["tokenizer_decoded"]);
    let prompt = t.encode(r.meta["prompt_text"].as_str(), true).unwrap();
    assert_eq!(prompt.get_ids(), r.ids("prompt").as_slice());
}

fn tiny_json() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(tiny_dir().join("config.json")).unwrap()).unwrap()
}

#[track_caller]
fn config_err(v: &serde_json::Value, needle: &str) {
    match Config::from_json(&v.to_string()) {
        Err(LlmError::Config(m)) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
        other => panic!("expected a config error containing {needle:?}, got {other:?}"),
    }
}

#[test]
fn bad_configs_are_errors() {
    let good = tiny_json();
    assert_eq!(Config::from_json(&good.to_string()).unwrap().head_dim, 16);
    for field in [
        "hidden_size",
        "intermediate_size",
        "num_hidden_layers",
        "num_attention_heads",
        "vocab_size",
    ] {
        let mut v = good.clone();
        v.as_object_mut().unwrap().remove(field);
        config_err(&v, &format!("missing field `{field}`"));
    }
    let set = |k: &str, x: serde_json::Value| {
        let mut v = good.clone();
        v[k] = x;
        v
    };
    config_err(
        &set("num_key_value_heads", 3.into()),
        "multiple of num_key_value_heads (3)",
    );
    config_err(
        &set("hidden_size", "32".into()),
        "`hidden_size` must be an integer",
    );
    config_err(
        &set("num_hidden_layers", 0.into()),
        "`num_hidden_layers` must be a positive integer",
    );
    config_err(&set("head_dim", 15.into()), "head_dim (15) must be even");
    config_err(
        &set("rms_norm_eps", (-1.0).into()),
        "`rms_norm_eps` must be a positive number",
    );
    config_err(&set("model_type", "mistral".into()), "model_type");
    config_err(&set("attention_bias", true.into()), "attention_bias");
    config_err(&set("eos_token_id", 999.into()), "eos_token_id 999");
    config_err(
        &set(
            "rope_scaling",
            serde_json::json!({"rope_type": "yarn", "factor": 4.0}),
        ),
        "`yarn` is not supported",
    );
    config_err(
        &set(
            "rope_scaling",
            serde_json::json!({"rope_type": "llama3", "factor": 4.0}),
        ),
        "rope_scaling: missing field `low_freq_factor`",
    );
    // Without head_dim the head size comes from hidden_size, which must divide.
    let mut v = set("num_attention_heads", 6.into());
    v.as_object_mut().unwrap().remove("head_dim");
    v["num_key_value_heads"] = 2.into();
    config_err(&v, "not a multiple of num_attention_heads (6)");
    match Config::from_json("{not json") {
        Err(LlmError::Config(m)) => assert!(m.contains("not valid JSON"), "{m}"),
        other => panic!("{other:?}"),
    }
}

fn tiny_weights() -> HashMap<String, Array> {
    mx::load_safetensors(tiny_dir().join("model.safetensors"), Device::cpu())
        .unwrap()
        .0
}

#[track_caller]
fn weights_err(config: Config, w: HashMap<String, Array>, needles: &[&str]) {
    match Llama::from_weights(config, w, Dtype::Float32) {
        Err(LlmError::Weights(m)) => {
            for n in needles {
                assert!(m.contains(n), "{m:?} lacks {n:?}");
            }
        }
        Err(e) => panic!("expected a weights error, got {e}"),
        Ok(_) => panic!("expected a weights error, got a model"),
    }
}

#[test]
fn bad_weights_are_errors() {
    let _s = mx::stream(Device::cpu());
    let config = Config::from_file(&tiny_dir().join("config.json")).unwrap();
    let name = "model.layers.1.self_attn.k_proj.weight";
    let mut w = tiny_weights();
    w.remove(name);
    weights_err(config.clone(), w, &["missing", name]);

    let mut w = tiny_weights();
    w.insert(
        name.into(),
        mx::zeros(&[16, 32], Dtype::Float32, None).unwrap(),
    );
    weights_err(
        config.clone(),
        w,
        &["mis-shaped", name, "[16, 32]", "[32, 32]"],
    );

    let mut w = tiny_weights();
    w.insert(
        "model.layers.7.mlp.gate_proj.weight".into(),
        mx::zeros(&[96, 32], Dtype::Float32, None).unwrap(),
    );
    weights_err(
        config.clone(),
        w,
        &["unexpected", "model.layers.7.mlp.gate_proj.weight"],
    );

    let mut w = tiny_weights();
    w.insert(
        name.into(),
        mx::zeros(&[32, 32], Dtype::Int32, None).unwrap(),
    );
    weights_err(config.clone(), w, &[name, "Int32"]);

    // An untied model needs its own head; a tied one ignores a stored head and the
    // rotary frequencies old checkpoints carry.
    let untied = Config {
        tie_word_embeddings: false,
        ..config.clone()
    };
    weights_err(untied, tiny_weights(), &["missing", "lm_head.weight"]);
    let mut w = tiny_weights();
    w.insert(
        "lm_head.weight".into(),
        mx::zeros(&[256, 32], Dtype::Float32, None).unwrap(),
    );
    w.insert(
        "model.layers.0.self_attn.rotary_emb.inv_freq".into(),
        mx::zeros(&[8], Dtype::Float32, None).unwrap(),
    );
    Llama::from_weights(config.clone(), w, Dtype::Float32).unwrap();

    // A config whose dims disagree with the file.
    let wider = Config {
        intermediate_size: 128,
        ..config
    };
    weights_err(
        wider,
        tiny_weights(),
        &["mis-shaped", "mlp.gate_proj.weight"],
    );
}

#[test]
fn bad_model_directories_are_errors() {
    let _s = mx::stream(Device::cpu());
    let dir = std::env::temp_dir().join(format!("wmx_llm_test_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let err = |d: &Path| {
        Llama::load(d, Dtype::Float32)
            .err()
            .expect("an error")
            .to_string()
    };
    assert!(err(&dir).contains("config.json"), "{}", err(&dir));
    std::fs::copy(tiny_dir().join("config.json"), dir.join("config.json")).unwrap();
    assert!(err(&dir).contains("no .safetensors file"), "{}", err(&dir));
    // A weight file cut short.
    let bytes = std::fs::read(tiny_dir().join("model.safetensors")).unwrap();
    std::fs::write(dir.join("model.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    let e = err(&dir);
    assert!(e.contains("model.safetensors"), "{e}");
    // Two shards holding the same tensor.
    std::fs::write(dir.join("model.safetensors"), &bytes).unwrap();
    std::fs::write(dir.join("model-2.safetensors"), &bytes).unwrap();
    assert!(err(&dir).contains("more than one file"), "{}", err(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_inputs_are_errors() {
    let _s = mx::stream(Device::cpu());
    let model = Llama::load(&tiny_dir(), Dtype::Float32).unwrap();
    assert!(matches!(model.check_tokens(&[3, 256]), Err(LlmError::Input(m)) if m.contains("256")));
    model.check_tokens(&[0, 255]).unwrap();
    let f = Array::from_slice(&[1.0f32, 2.0], &[1, 2]);
    assert!(matches!(
        model.forward(&f, &mut model.new_cache(), false),
        Err(LlmError::Input(_))
    ));
    let flat = Array::from_slice(&[1i32, 2], &[2]);
    assert!(matches!(
        model.forward(&flat, &mut model.new_cache(), false),
        Err(LlmError::Input(_))
    ));
    let mut short = model.new_cache();
    short.pop();
    assert!(matches!(
        model.forward(&tokens(&[1]), &mut short, false),
        Err(LlmError::Input(_))
    ));
    assert!(Llama::load(&tiny_dir(), Dtype::Int32).is_err());
    for bad in [
        Sampling {
            temp: -1.0,
            top_p: 1.0,
        },
        Sampling {
            temp: 1.0,
            top_p: 0.0,
        },
        Sampling {
            temp: f32::NAN,
            top_p: 1.0,
        },
        Sampling {
            temp: 1.0,
            top_p: 1.5,
        },
    ] {
        assert!(
            matches!(Sampler::new(bad, 0), Err(LlmError::Input(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn presets_have_the_documented_sizes() {
    let b = Config::preset("1b").unwrap();
    // Llama 3.2 1B has 1.236 B parameters (embeddings tied).
    assert_eq!(b.num_parameters(), 1_235_814_400);
    let t = Config::preset("tiny").unwrap();
    let dir = Config::from_file(&tiny_dir().join("config.json")).unwrap();
    assert_eq!(t.num_parameters(), dir.num_parameters());
    assert!(Config::preset("7b").is_none());
    // llama3 scaling: the highest frequency is kept, the lowest divided by the factor.
    let f = b.rope_freqs().unwrap();
    assert!((f[0] - 1.0).abs() < 1e-6);
    let plain = 500000f64.powf(62.0 / 64.0);
    assert!(
        ((f[31] as f64) / (plain * 32.0) - 1.0).abs() < 1e-5,
        "{}",
        f[31]
    );
}
