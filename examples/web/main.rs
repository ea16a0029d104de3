//! wmx in a browser: a WebAssembly module (`examples/web/index.html` loads it) that opens the
//! browser's WebGPU through `wmx::init_async`, runs a few ops and a random-number check on the
//! device the page asks for, and reports every check with its value. Reads go through the async
//! API (`async_eval`, `to_vec_async`) since a page cannot block; the blocking `to_vec` of GPU work
//! must be a clear `Err` there. `tools/web_test.sh` builds it (`--target wasm32-unknown-unknown`,
//! then `wasm-bindgen --target web`) and drives the page in headless Chromium.
//!
//! Natively this example is an empty library (it is built by `cargo test` like every example).
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

#[cfg(target_arch = "wasm32")]
mod page {
    use wasm_bindgen::prelude::*;
    use wmx::{self as mx, Array, Device, DeviceType, Dtype};

    /// One line of the report: `ok name: detail` or `FAIL name: detail`.
    struct Report {
        lines: Vec<String>,
        failed: usize,
    }

    impl Report {
        fn check(&mut self, name: &str, ok: bool, detail: String) {
            if !ok {
                self.failed += 1;
            }
            self.lines.push(format!(
                "{} {name}: {detail}",
                if ok { "ok" } else { "FAIL" }
            ));
        }
    }

    async fn read(a: &Array) -> mx::Result<Vec<f32>> {
        a.to_vec_async::<f32>().await
    }

    /// MLX's `uniform(key=random.key(0), shape=(7,))`, as float32 bits (from
    /// tests/fixtures/random/mlx_random.txt).
    const MLX_UNIFORM_KEY0: [u32; 7] = [
        0x3f083fff, 0x3eb3063a, 0x3eb5094a, 0x3f38abc5, 0x3dcede2c, 0x3f7ba37a, 0x3e4813b5,
    ];

    async fn checks(dev: Device, r: &mut Report) -> mx::Result<()> {
        // Elementwise, broadcasting and a reduction.
        let a = mx::arange(0.0, 12.0, 1.0, Dtype::Float32, dev)?;
        let a = mx::reshape(&a, &[3, 4], dev)?;
        let b = mx::exp(&mx::multiply(&a, 0.25f32, dev)?, dev)?;
        let s = mx::sum(
            &mx::add(&a, &Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[4]), dev)?,
            &[],
            false,
            dev,
        )?;
        mx::async_eval([&b, &s]).await?;
        let sv = read(&s).await?[0];
        r.check("sum(a + [1,2,3,4])", sv == 96.0, format!("{sv} (want 96)"));
        let bv = read(&b).await?;
        let want: Vec<f32> = (0..12).map(|i| (i as f32 * 0.25).exp()).collect();
        let err = bv
            .iter()
            .zip(&want)
            .map(|(x, y)| ((x - y) / y).abs())
            .fold(0.0f32, f32::max);
        r.check(
            "exp(a / 4)",
            err < 1e-5,
            format!("max relative error {err:e}"),
        );

        // Matmul, softmax along rows.
        let m = mx::matmul(&a, &mx::transpose(&a, &[], dev)?, dev)?;
        let mv = read(&m).await?;
        r.check(
            "a @ a.T",
            mv[0] == 14.0 && mv[8] == 366.0,
            format!("[0,0]={} [2,2]={} (want 14, 366)", mv[0], mv[8]),
        );
        let p = mx::softmax(&a, &[-1], dev)?;
        let rows = read(&mx::sum(&p, &[-1], false, dev)?).await?;
        let ok = rows.iter().all(|v| (v - 1.0).abs() < 1e-6);
        r.check("softmax rows sum to 1", ok, format!("{rows:?}"));

        // float16 (packed two per word on adapters without shader-f16).
        let h = mx::astype(&a, Dtype::Float16, dev)?;
        let hv = read(&mx::multiply(&h, 0.5f32, dev)?).await?;
        r.check(
            "float16 a * 0.5",
            hv[11] == 5.5,
            format!("{} (want 5.5)", hv[11]),
        );

        // Random numbers: MLX's bits for key 0, and the moments of 2^16 draws.
        let key = mx::random::key(0);
        let u = mx::random::uniform(0.0f32, 1.0f32, &[7], Dtype::Float32, Some(&key), dev)?;
        let bits: Vec<u32> = read(&u).await?.iter().map(|v| v.to_bits()).collect();
        r.check(
            "uniform(key(0)) == MLX bits",
            bits == MLX_UNIFORM_KEY0,
            format!("{bits:08x?}"),
        );
        let n = 1 << 16;
        let z = mx::random::normal(
            &[n],
            Dtype::Float32,
            None,
            None,
            Some(&mx::random::key(7)),
            dev,
        )?;
        let mean = read(&mx::mean(&z, &[], false, dev)?).await?[0];
        let var = read(&mx::var(&z, &[], false, 0, dev)?).await?[0];
        r.check(
            "normal: mean ~ 0, var ~ 1",
            mean.abs() < 0.02 && (var - 1.0).abs() < 0.03,
            format!("mean {mean:.4}, var {var:.4} over {n}"),
        );

        // Across devices: a CPU array consumed on this device and back.
        let c = mx::add(
            &mx::ones(&[4], Dtype::Float32, Device::cpu())?,
            &mx::ones(&[4], Dtype::Float32, dev)?,
            dev,
        )?;
        let back = mx::multiply(&c, 3.0f32, Device::cpu())?;
        let bv = read(&back).await?;
        r.check(
            "CPU -> device -> CPU",
            bv == vec![6.0; 4],
            format!("{bv:?}"),
        );

        // Blocking reads: fine for finished CPU work, a clear Err for GPU work.
        let blocking = mx::exp(&a, dev)?.to_vec::<f32>();
        match dev.kind {
            DeviceType::Cpu => r.check(
                "blocking to_vec on the CPU",
                blocking.is_ok(),
                format!("{:?}", blocking.map(|v| v.len())),
            ),
            DeviceType::Gpu => {
                let msg = blocking
                    .as_ref()
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                r.check(
                    "blocking to_vec on the GPU is an Err",
                    msg.contains("cannot block"),
                    msg,
                );
            }
        }
        Ok(())
    }

    /// Runs the checks on `device` ("gpu" or "cpu") and returns the report, one check a line;
    /// the first line is `PASS` or `FAIL`.
    #[wasm_bindgen]
    pub async fn run(device: String) -> String {
        let mut r = Report {
            lines: Vec::new(),
            failed: 0,
        };
        let gpus = match mx::init_async().await {
            Ok(n) => n,
            Err(e) => {
                r.check("init_async", false, e.to_string());
                0
            }
        };
        let dev = if device == "gpu" {
            Device::gpu(0)
        } else {
            Device::cpu()
        };
        let info = mx::device_info(dev).map(|i| {
            format!(
                "{} ({}, {}, native f16: {})",
                i.name, i.backend, i.device_type, i.native_f16
            )
        });
        r.check(
            &format!("device {dev:?}"),
            info.is_ok(),
            format!(
                "{gpus} GPU(s) found; {}",
                info.unwrap_or_else(|e| e.to_string())
            ),
        );
        if let Err(e) = checks(dev, &mut r).await {
            r.check("no error", false, e.to_string());
        }
        let head = if r.failed == 0 {
            "PASS".to_string()
        } else {
            format!("FAIL ({} checks failed)", r.failed)
        };
        std::iter::once(head)
            .chain(r.lines)
            .collect::<Vec<_>>()
            .join("\n")
    }
}
