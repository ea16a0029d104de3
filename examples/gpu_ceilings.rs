//! gpu_ceilings — what plain WGSL kernel shapes reach on GPU 0, measured with raw wgpu (no wmx
//! runtime in the way): copy, add and exp over 2^28 f32 with one vec4 per invocation, grid-stride
//! loops and several vec4s per invocation; full sums and row sums with vec4 loads. It is the
//! yardstick for wmx's own kernels (what the hardware gives a WGSL kernel, not what torch gets).
//!
//! Run: `cargo run --release --example gpu_ceilings [-- log2_elements]` (default 28; use 22 on
//! lavapipe; `-- chain` times only the wmx chain, for profiling; `-- churn [log2]` times kernels
//! on buffers allocated after others were freed). Each row is the median of 5 submits of 10 back-to-back dispatches in one compute
//! pass, timed around the submit-and-wait (the round trip is amortised over the 10).

use std::time::Instant;

const WG: u32 = 256;

struct Gpu {
    device: wgpu::Device,
    queue: wgpu::Queue,
    layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
}

fn entry(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

impl Gpu {
    fn new() -> Gpu {
        let instance = wgpu::Instance::default();
        let adapter = pollster::block_on(instance.request_adapter(&Default::default()))
            .expect("no GPU adapter");
        println!("adapter: {:?}", adapter.get_info().name);
        let desc = wgpu::DeviceDescriptor {
            required_limits: adapter.limits(),
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc)).unwrap();
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: None,
            entries: &[entry(0, true), entry(1, true), entry(2, false)],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: None,
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        Gpu {
            device,
            queue,
            layout,
            pipeline_layout,
        }
    }

    fn pipeline(&self, src: &str, entry: &str) -> wgpu::ComputePipeline {
        let desc = wgpu::ShaderModuleDescriptor {
            label: None,
            source: wgpu::ShaderSource::Wgsl(src.into()),
        };
        // SAFETY: every kernel below guards its indices by the array length.
        let module = unsafe {
            self.device
                .create_shader_module_trusted(desc, wgpu::ShaderRuntimeChecks::unchecked())
        };
        self.device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: None,
                layout: Some(&self.pipeline_layout),
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
    }

    fn buffer(&self, bytes: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// Median seconds per dispatch of `p` over `groups` workgroups.
    fn time(
        &self,
        p: &wgpu::ComputePipeline,
        bind: [wgpu::BufferBinding; 3],
        groups: [u32; 3],
    ) -> f64 {
        let bg = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &self.layout,
            entries: &bind
                .into_iter()
                .enumerate()
                .map(|(i, b)| wgpu::BindGroupEntry {
                    binding: i as u32,
                    resource: wgpu::BindingResource::Buffer(b),
                })
                .collect::<Vec<_>>(),
        });
        let reps = 10;
        let once = || {
            let mut enc = self.device.create_command_encoder(&Default::default());
            {
                let mut pass = enc.begin_compute_pass(&Default::default());
                pass.set_pipeline(p);
                pass.set_bind_group(0, &bg, &[]);
                for _ in 0..reps {
                    pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
                }
            }
            let t = Instant::now();
            self.queue.submit([enc.finish()]);
            self.device
                .poll(wgpu::PollType::wait_indefinitely())
                .unwrap();
            t.elapsed().as_secs_f64() / reps as f64
        };
        once();
        let mut t: Vec<f64> = (0..5).map(|_| once()).collect();
        t.sort_by(f64::total_cmp);
        t[2]
    }
}

/// 2-D grid for `n` workgroups (the kernels linearise `wid.x + wid.y * nwg.x`).
fn grid(n: u32) -> [u32; 3] {
    if n <= 65535 {
        [n, 1, 1]
    } else {
        [65535, n.div_ceil(65535), 1]
    }
}

const KERNELS: &str = r#"
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
var<workgroup> sh: array<f32, WG>;

fn qid(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * WG; }

@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = qid(gid, nwg);
    if (q >= NQ) { return; }
    let h = (q * 2654435761u) ^ (q >> 7u);
    c[q] = vec4<f32>(f32(h & 1023u), f32((h >> 10u) & 1023u), f32((h >> 20u) & 1023u), 1.0) * 0.001 - 0.5;
}

// Full-entropy data: uniform [-1, 1) from a hash of the element index (random signs and
// mantissas, like the bench's and torch's inputs), `fill`'s 10-bit pattern being kinder.
fn hash(x: u32) -> u32 {
    var h = x * 747796405u + 2891336453u;
    h = ((h >> ((h >> 28u) + 4u)) ^ h) * 277803737u;
    return (h >> 22u) ^ h;
}

@compute @workgroup_size(WG)
fn fill_random(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = qid(gid, nwg);
    if (q >= NQ) { return; }
    var v: vec4<f32>;
    for (var k = 0u; k < 4u; k = k + 1u) {
        v[k] = bitcast<f32>((hash(q * 4u + k + SEED) >> 9u) | 0x3f800000u) * 2.0 - 3.0;
    }
    c[q] = v;
}

// Write only: the store ceiling.
@compute @workgroup_size(WG)
fn store1(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = qid(gid, nwg);
    if (q < NQ) { c[q] = vec4<f32>(f32(q)); }
}

// Row broadcast: b is one row of quads (its length read at run time, as wmx's info table is),
// or of ROWQ quads known when compiling.
@compute @workgroup_size(WG)
fn add_row_rt(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = qid(gid, nwg);
    if (q < NQ) { c[q] = a[q] + b[q % arrayLength(&b)]; }
}

@compute @workgroup_size(WG)
fn add_row_const(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = qid(gid, nwg);
    if (q < NQ) { c[q] = a[q] + b[q % ROWQ]; }
}

@compute @workgroup_size(WG)
fn copy_row_rt(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = qid(gid, nwg);
    if (q < NQ) { c[q] = b[q % arrayLength(&b)]; }
}

@compute @workgroup_size(WG)
fn copy1(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = qid(gid, nwg);
    if (q < NQ) { c[q] = a[q]; }
}

@compute @workgroup_size(WG)
fn add1(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = qid(gid, nwg);
    if (q < NQ) { c[q] = a[q] + b[q]; }
}

@compute @workgroup_size(WG)
fn exp1(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = qid(gid, nwg);
    if (q < NQ) { c[q] = exp(a[q]); }
}

// Grid-stride: a fixed number of workgroups walks the whole array.
@compute @workgroup_size(WG)
fn add_gs(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let stride = nwg.x * WG;
    for (var q = gid.x; q < NQ; q = q + stride) { c[q] = a[q] + b[q]; }
}

// U vec4s per invocation, loads issued before the stores, WG apart (coalesced per step).
@compute @workgroup_size(WG)
fn add_u(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
    let base = (wid.x + wid.y * nwg.x) * WG * U + lid;
    if (base + (U - 1u) * WG < NQ) {
        var x: array<vec4<f32>, U>;
        for (var j = 0u; j < U; j = j + 1u) { x[j] = a[base + j * WG] + b[base + j * WG]; }
        for (var j = 0u; j < U; j = j + 1u) { c[base + j * WG] = x[j]; }
    } else {
        for (var j = 0u; j < U; j = j + 1u) {
            let q = base + j * WG;
            if (q < NQ) { c[q] = a[q] + b[q]; }
        }
    }
}

@compute @workgroup_size(WG)
fn copy_u(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
    let base = (wid.x + wid.y * nwg.x) * WG * U + lid;
    if (base + (U - 1u) * WG < NQ) {
        var x: array<vec4<f32>, U>;
        for (var j = 0u; j < U; j = j + 1u) { x[j] = a[base + j * WG]; }
        for (var j = 0u; j < U; j = j + 1u) { c[base + j * WG] = x[j]; }
    } else {
        for (var j = 0u; j < U; j = j + 1u) {
            let q = base + j * WG;
            if (q < NQ) { c[q] = a[q]; }
        }
    }
}

fn tree(lid: u32, v: f32) -> f32 {
    sh[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
        if (lid < s) { sh[lid] = sh[lid] + sh[lid + s]; }
        workgroupBarrier();
    }
    return sh[0];
}

// Full sum, grid-stride over vec4s with four vec4 accumulators; one partial per workgroup.
@compute @workgroup_size(WG)
fn sum_gs(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
    let stride = nwg.x * WG;
    var q = wid.x * WG + lid;
    var s0 = vec4<f32>(0.0); var s1 = vec4<f32>(0.0); var s2 = vec4<f32>(0.0); var s3 = vec4<f32>(0.0);
    for (; q + 3u * stride < NQ; q = q + 4u * stride) {
        s0 = s0 + a[q]; s1 = s1 + a[q + stride]; s2 = s2 + a[q + 2u * stride]; s3 = s3 + a[q + 3u * stride];
    }
    for (; q < NQ; q = q + stride) { s0 = s0 + a[q]; }
    let s = (s0 + s1) + (s2 + s3);
    let t = tree(lid, (s.x + s.y) + (s.z + s.w));
    if (lid == 0u) { c[wid.x] = vec4<f32>(t); }
}

// Full sum, one contiguous chunk of CHUNK vec4s per workgroup.
@compute @workgroup_size(WG)
fn sum_chunk(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let g = wid.x + wid.y * nwg.x;
    if (g * CHUNK >= NQ) { return; }
    let q0 = g * CHUNK;
    var s0 = vec4<f32>(0.0); var s1 = vec4<f32>(0.0); var s2 = vec4<f32>(0.0); var s3 = vec4<f32>(0.0);
    var q = q0 + lid;
    let q1 = min(q0 + CHUNK, NQ);
    for (; q + 3u * WG < q1; q = q + 4u * WG) {
        s0 = s0 + a[q]; s1 = s1 + a[q + WG]; s2 = s2 + a[q + 2u * WG]; s3 = s3 + a[q + 3u * WG];
    }
    for (; q < q1; q = q + WG) { s0 = s0 + a[q]; }
    let s = (s0 + s1) + (s2 + s3);
    let t = tree(lid, (s.x + s.y) + (s.z + s.w));
    if (lid == 0u) { c[g] = vec4<f32>(t); }
}

// Row sums: one workgroup per row of ROWQ vec4s.
@compute @workgroup_size(WG)
fn rowsum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
    let row = wid.x + wid.y * nwg.x;
    if (row * ROWQ >= NQ) { return; }
    let q0 = row * ROWQ;
    let q1 = q0 + ROWQ;
    var s0 = vec4<f32>(0.0); var s1 = vec4<f32>(0.0); var s2 = vec4<f32>(0.0); var s3 = vec4<f32>(0.0);
    var q = q0 + lid;
    for (; q + 3u * WG < q1; q = q + 4u * WG) {
        s0 = s0 + a[q]; s1 = s1 + a[q + WG]; s2 = s2 + a[q + 2u * WG]; s3 = s3 + a[q + 3u * WG];
    }
    for (; q < q1; q = q + WG) { s0 = s0 + a[q]; }
    let s = (s0 + s1) + (s2 + s3);
    let t = tree(lid, (s.x + s.y) + (s.z + s.w));
    if (lid == 0u) { c[row] = vec4<f32>(t); }
}
"#;

/// `KERNELS` with its constants: WG invocations per workgroup, U vec4s per invocation, NQ vec4s
/// per array, CHUNK vec4s per workgroup of `sum_chunk`, ROWQ vec4s per row, SEED for
/// `fill_random`.
fn source(wg: u32, u: u32, nq: u32, chunk: u32, rowq: u32, seed: u32) -> String {
    format!(
        "const WG: u32 = {wg}u;\nconst U: u32 = {u}u;\nconst NQ: u32 = {nq}u;\nconst CHUNK: u32 = {chunk}u;\nconst ROWQ: u32 = {rowq}u;\nconst SEED: u32 = {seed}u;\n{KERNELS}"
    )
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("chain") {
        return wmx_chain(200);
    }
    if std::env::args().nth(1).as_deref() == Some("churn") {
        let log2 = std::env::args().nth(2).and_then(|s| s.parse().ok());
        return churn(log2.unwrap_or(28));
    }
    let log2: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(28);
    let n: u64 = 1 << log2;
    let nq = (n / 4) as u32;
    let bytes = n * 4;
    let gpu = Gpu::new();
    let src_seeded =
        |wg: u32, u: u32, chunk: u32, rowq: u32, seed: u32| source(wg, u, nq, chunk, rowq, seed);
    let src = |wg: u32, u: u32, chunk: u32, rowq: u32| src_seeded(wg, u, chunk, rowq, 0);
    let big = gpu.device.limits().max_buffer_size >= 2 * bytes
        && gpu.device.limits().max_storage_buffer_binding_size >= bytes;
    let a = gpu.buffer(bytes);
    let b = gpu.buffer(bytes);
    let c = gpu.buffer(bytes);
    let ab = if big {
        Some(gpu.buffer(2 * bytes))
    } else {
        None
    };
    fn whole(x: &wgpu::Buffer) -> wgpu::BufferBinding<'_> {
        x.as_entire_buffer_binding()
    }
    let base = src(WG, 4, 4096, 1024);
    let fill = gpu.pipeline(&base, "fill");
    let groups = nq.div_ceil(WG);
    let dummy = gpu.buffer(16);
    for t in [&a, &b, &c] {
        gpu.time(
            &fill,
            [whole(&dummy), whole(&dummy), whole(t)],
            grid(groups),
        );
    }
    if let Some(ab) = &ab {
        for half in 0..2 {
            let bind = wgpu::BufferBinding {
                buffer: ab,
                offset: half * bytes,
                size: std::num::NonZeroU64::new(bytes),
            };
            gpu.time(&fill, [whole(&dummy), whole(&dummy), bind], grid(groups));
        }
    }
    let gbs = |bytes_moved: u64, s: f64| bytes_moved as f64 / s / 1e12;
    let report = |name: &str, s: f64, moved: u64| {
        println!(
            "| {name:36} | {:9.1} µs | {:5.2} TB/s |",
            s * 1e6,
            gbs(moved, s)
        );
    };
    println!("2^{log2} f32 ({} MiB per array)", bytes >> 20);
    let p = gpu.pipeline(&base, "copy1");
    report(
        "copy, 1 vec4/inv",
        gpu.time(&p, [whole(&a), whole(&b), whole(&c)], grid(groups)),
        2 * bytes,
    );
    let p = gpu.pipeline(&base, "exp1");
    report(
        "exp, 1 vec4/inv",
        gpu.time(&p, [whole(&a), whole(&b), whole(&c)], grid(groups)),
        2 * bytes,
    );
    let p = gpu.pipeline(&base, "add1");
    report(
        "add, 1 vec4/inv",
        gpu.time(&p, [whole(&a), whole(&b), whole(&c)], grid(groups)),
        3 * bytes,
    );
    report(
        "add a+a, 1 vec4/inv",
        gpu.time(&p, [whole(&a), whole(&a), whole(&c)], grid(groups)),
        3 * bytes,
    );
    if let Some(ab) = &ab {
        let half = |h: u64| wgpu::BufferBinding {
            buffer: ab,
            offset: h * bytes,
            size: std::num::NonZeroU64::new(bytes),
        };
        report(
            "add, a b halves of one buffer",
            gpu.time(&p, [half(0), half(1), whole(&c)], grid(groups)),
            3 * bytes,
        );
        // The same add with b starting `d` bytes after a in one buffer: is the speed a matter
        // of where the two input streams lie relative to each other (wmx's probes with a
        // second input 4.25 KiB or 1 MiB into its buffer ran at a third and a half of torch)?
        let near = [4352, 1 << 20, 2 << 20].map(|d| bytes.saturating_sub(d));
        for d in [bytes, near[0], near[1], near[2], bytes / 2, 4352] {
            let at = |o: u64| wgpu::BufferBinding {
                buffer: ab,
                offset: o,
                size: std::num::NonZeroU64::new(bytes),
            };
            report(
                &format!("add, b {d} bytes after a"),
                gpu.time(&p, [at(0), at(d), whole(&c)], grid(groups)),
                3 * bytes,
            );
        }
    }
    for wg in [64, 128, 512, 1024] {
        let s = src(wg, 4, 4096, 1024);
        let p = gpu.pipeline(&s, "add1");
        report(
            &format!("add, 1 vec4/inv, WG {wg}"),
            gpu.time(&p, [whole(&a), whole(&b), whole(&c)], grid(nq.div_ceil(wg))),
            3 * bytes,
        );
    }
    let p = gpu.pipeline(&base, "add_gs");
    for g in [1056, 2112, 4224, 16896] {
        report(
            &format!("add, grid-stride {g} WGs"),
            gpu.time(&p, [whole(&a), whole(&b), whole(&c)], [g, 1, 1]),
            3 * bytes,
        );
    }
    for u in [2, 4, 8] {
        let s = src(WG, u, 4096, 1024);
        let p = gpu.pipeline(&s, "add_u");
        report(
            &format!("add, {u} vec4/inv"),
            gpu.time(
                &p,
                [whole(&a), whole(&b), whole(&c)],
                grid(nq.div_ceil(WG * u)),
            ),
            3 * bytes,
        );
        let p = gpu.pipeline(&s, "copy_u");
        report(
            &format!("copy, {u} vec4/inv"),
            gpu.time(
                &p,
                [whole(&a), whole(&b), whole(&c)],
                grid(nq.div_ceil(WG * u)),
            ),
            2 * bytes,
        );
    }
    let p = gpu.pipeline(&base, "sum_gs");
    for g in [264, 1056, 2112, 4224] {
        report(
            &format!("sum, grid-stride {g} WGs"),
            gpu.time(&p, [whole(&a), whole(&b), whole(&c)], [g, 1, 1]),
            bytes,
        );
    }
    for chunk in [1024, 4096, 16384] {
        let s = src(WG, 4, chunk, 1024);
        let p = gpu.pipeline(&s, "sum_chunk");
        report(
            &format!("sum, chunks of {chunk} vec4"),
            gpu.time(
                &p,
                [whole(&a), whole(&b), whole(&c)],
                grid(nq.div_ceil(chunk)),
            ),
            bytes,
        );
    }
    let rowq = ((n as f64).sqrt() as u32) / 4;
    for wg in [128, 256, 512, 1024] {
        let s = src(wg, 4, 4096, rowq);
        let p = gpu.pipeline(&s, "rowsum");
        report(
            &format!("row sums ({}²), WG {wg}", rowq * 4),
            gpu.time(&p, [whole(&a), whole(&b), whole(&c)], grid(nq / rowq)),
            bytes,
        );
    }
    // Per-dispatch floor for chained small ops: 1,000 one-workgroup dispatches in one pass,
    // each reading what the previous wrote (c -> b alternating would need two bind groups; the
    // read_write binding of c already makes every dispatch wait for the one before).
    let p = gpu.pipeline(&base, "add1");
    let chain = |fresh_bind_groups: bool| {
        let bg = |x: &wgpu::Buffer, y: &wgpu::Buffer| {
            gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: &gpu.layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: x.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: x.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: y.as_entire_binding(),
                    },
                ],
            })
        };
        let small: Vec<wgpu::Buffer> = (0..2).map(|_| gpu.buffer(4096)).collect();
        let fixed = [bg(&small[0], &small[1]), bg(&small[1], &small[0])];
        let t0 = Instant::now();
        let mut enc = gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            pass.set_pipeline(&p);
            for i in 0..1000 {
                if fresh_bind_groups {
                    let info = gpu.buffer(64);
                    gpu.queue.write_buffer(&info, 0, &[0u8; 64]);
                    pass.set_bind_group(0, &bg(&small[i % 2], &small[1 - i % 2]), &[]);
                } else {
                    pass.set_bind_group(0, &fixed[i % 2], &[]);
                }
                pass.dispatch_workgroups(1, 1, 1);
            }
        }
        let recorded = t0.elapsed().as_secs_f64();
        gpu.queue.submit([enc.finish()]);
        gpu.device
            .poll(wgpu::PollType::wait_indefinitely())
            .unwrap();
        (recorded / 1000.0, t0.elapsed().as_secs_f64() / 1000.0)
    };
    for fresh in [false, true, false, true] {
        let (rec, total) = chain(fresh);
        println!(
            "| chain of 1000 tiny dispatches{} | recording {:.2} µs/op | total {:.2} µs/op |",
            if fresh {
                ", new bind group + buffer each"
            } else {
                ""
            },
            rec * 1e6,
            total * 1e6
        );
    }
    random_data_rows(&gpu, &src_seeded, [&a, &b, &c], nq, bytes);
    wmx_rows(log2);
}

/// Does freeing and reallocating big buffers slow kernels down? Times store, copy and add on fresh
/// 2^log2-float buffers, then after rounds of allocating, filling and dropping eight buffers of
/// the same size (raw wgpu: what the driver gives, without wmx's cache).
fn churn(log2: u32) {
    let gpu = Gpu::new();
    let n: u64 = 1 << log2;
    let (nq, bytes) = ((n / 4) as u32, n * 4);
    let src = source(WG, 1, nq, 1, 1, 0);
    let groups = grid(nq.div_ceil(WG));
    let fill = gpu.pipeline(&src, "fill_random");
    let dummy = gpu.buffer(16);
    let fill_buf = |t: &wgpu::Buffer| {
        gpu.time(
            &fill,
            [
                dummy.as_entire_buffer_binding(),
                dummy.as_entire_buffer_binding(),
                t.as_entire_buffer_binding(),
            ],
            groups,
        );
    };
    let kernels: Vec<(&str, wgpu::ComputePipeline, u64)> = [
        ("store", "store1", bytes),
        ("copy", "copy1", 2 * bytes),
        ("add", "add1", 3 * bytes),
    ]
    .into_iter()
    .map(|(name, entry, moved)| (name, gpu.pipeline(&src, entry), moved))
    .collect();
    for round in 0..6 {
        let [a, b, c] = [0; 3].map(|_| gpu.buffer(bytes));
        for t in [&a, &b, &c] {
            fill_buf(t);
        }
        let mut line = format!(
            "| churn round {round} (after {} dropped buffers) |",
            round * 16
        );
        for (name, p, moved) in &kernels {
            let s = gpu.time(
                p,
                [
                    a.as_entire_buffer_binding(),
                    b.as_entire_buffer_binding(),
                    c.as_entire_buffer_binding(),
                ],
                groups,
            );
            line += &format!(
                " {name} {:.0} µs {:.2} TB/s |",
                s * 1e6,
                *moved as f64 / s / 1e12
            );
        }
        println!("{line}");
        drop((a, b, c));
        // Same-size buffers (rounds 0-1), then mixed sizes as a run of the bench makes them.
        let sizes: Vec<u64> = if round < 2 {
            vec![bytes; 8]
        } else {
            vec![
                bytes,
                bytes + (1 << 20),
                bytes / 16,
                4 << 20,
                64 << 10,
                bytes + 4352,
                bytes / 4,
                3 << 20,
            ]
        };
        for _ in 0..2 {
            let many: Vec<wgpu::Buffer> = sizes.iter().map(|&s| gpu.buffer(s)).collect();
            for t in many.iter().filter(|t| t.size() >= bytes) {
                fill_buf(t);
            }
        }
    }
}

/// The bandwidth rows again on full-entropy data (see `fill_random`), plus the store ceiling
/// and row-broadcast adds (a 16384-float row when the array is 2^28).
fn random_data_rows(
    gpu: &Gpu,
    src: &dyn Fn(u32, u32, u32, u32, u32) -> String,
    [a, b, c]: [&wgpu::Buffer; 3],
    nq: u32,
    bytes: u64,
) {
    let groups = grid(nq.div_ceil(WG));
    let dummy = gpu.buffer(16);
    for (i, t) in [a, b, c].into_iter().enumerate() {
        let p = gpu.pipeline(
            &src(WG, 4, 4096, 1024, i as u32 * 0x1000_0000),
            "fill_random",
        );
        gpu.time(
            &p,
            [
                dummy.as_entire_buffer_binding(),
                dummy.as_entire_buffer_binding(),
                t.as_entire_buffer_binding(),
            ],
            groups,
        );
    }
    let row_quads = (((nq as f64) * 4.0).sqrt() as u32 / 4).max(1);
    let row = gpu.buffer(row_quads as u64 * 16);
    let fill_row = gpu.pipeline(&src(WG, 4, 4096, row_quads, 7), "fill_random");
    gpu.time(
        &fill_row,
        [
            dummy.as_entire_buffer_binding(),
            dummy.as_entire_buffer_binding(),
            row.as_entire_buffer_binding(),
        ],
        grid(row_quads.div_ceil(WG)),
    );
    let base = src(WG, 4, 4096, row_quads, 0);
    let report = |name: &str, s: f64, moved: u64| {
        println!(
            "| {name:36} | {:9.1} µs | {:5.2} TB/s |",
            s * 1e6,
            moved as f64 / s / 1e12
        );
    };
    fn bind<'a>(
        a: &'a wgpu::Buffer,
        x: &'a wgpu::Buffer,
        y: &'a wgpu::Buffer,
    ) -> [wgpu::BufferBinding<'a>; 3] {
        [
            a.as_entire_buffer_binding(),
            y.as_entire_buffer_binding(),
            x.as_entire_buffer_binding(),
        ]
    }
    println!("full-entropy data, uniform [-1, 1):");
    for (name, entry, second, moved) in [
        ("copy, random data", "copy1", b, 2 * bytes),
        ("add, random data", "add1", b, 3 * bytes),
        ("store only", "store1", b, bytes),
        (
            "add row (runtime period), random",
            "add_row_rt",
            &row,
            2 * bytes,
        ),
        (
            "add row (const period), random",
            "add_row_const",
            &row,
            2 * bytes,
        ),
        ("copy row (runtime period)", "copy_row_rt", &row, bytes),
    ] {
        let p = gpu.pipeline(&base, entry);
        report(name, gpu.time(&p, bind(a, c, second), groups), moved);
    }
    // wmx's own quad copy kernel (rendered by wmx, run here without the runtime): a broadcast
    // row copied out, and a dense copy.
    if let Some(key) = wmx::kernels::all_keys(true)
        .into_iter()
        .find(|k| k.to_string() == "unary_vec4.astype.f32.f32")
    {
        let p = gpu.pipeline(&wmx::kernels::render(&key, true), key.entry_point());
        let n = nq * 4;
        for (name, second, info) in [
            ("wmx kernel: copy row", &row, [n, 0, 0, row_quads * 4, 1]),
            ("wmx kernel: copy dense", b, [n, 0, 0, 0, 0]),
        ] {
            let info_buf = gpu.buffer(32);
            let mut words = [0u32; 8];
            words[..5].copy_from_slice(&info);
            gpu.queue
                .write_buffer(&info_buf, 0, bytemuck::cast_slice(&words));
            let moved = if info[3] == 0 { 2 * bytes } else { bytes };
            let bind = [
                info_buf.as_entire_buffer_binding(),
                second.as_entire_buffer_binding(),
                c.as_entire_buffer_binding(),
            ];
            report(name, gpu.time(&p, bind, groups), moved);
        }
    }
    for u in [2, 4] {
        let s = src(WG, u, 4096, row_quads, 0);
        let p = gpu.pipeline(&s, "add_u");
        report(
            &format!("add, {u} vec4/inv, random data"),
            gpu.time(&p, bind(a, c, b), grid(nq.div_ceil(WG * u))),
            3 * bytes,
        );
    }
}

/// The same shapes through the wmx runtime, one eval each (a submit-and-wait round trip), with
/// the buffer pool's numbers: inputs made on the host, and made on the GPU by `uniform`.
fn wmx_rows(log2: u32) {
    use wmx::{self as mx, Device};
    let dev = Device::gpu(0);
    let n = 1i32 << log2;
    let host: Vec<f32> = (0..n).map(|i| (i % 1000) as f32 * 1e-3).collect();
    let upload = |v: &[f32]| {
        let a = mx::contiguous(&mx::Array::from_slice(v, &[n]), dev).unwrap();
        mx::eval([&a]).unwrap();
        a
    };
    let key = mx::random::key(1);
    let keys = mx::random::split(&key, 2, dev).unwrap();
    let generate = |i: i32| {
        let k = mx::index(&keys, &mx::ix![i], dev).unwrap();
        let a = mx::random::uniform(0.0, 1.0, &[n], mx::Dtype::Float32, Some(&k), dev).unwrap();
        mx::eval([&a]).unwrap();
        a
    };
    let xorshift = |seed: u64| -> Vec<f32> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect()
    };
    let (xa, xb) = (upload(&xorshift(1)), upload(&xorshift(2)));
    let (ha, hb) = (upload(&host), upload(&host[..]));
    let (ga, gb) = (generate(0), generate(1));
    let cases: [(&str, &mx::Array, &mx::Array); 5] = [
        ("wmx add, xorshift-random inputs", &xa, &xb),
        ("wmx add, uploaded inputs", &ha, &hb),
        ("wmx add, generated inputs", &ga, &gb),
        ("wmx add a+a", &ga, &ga),
        ("wmx add, one uploaded, one generated", &ha, &gb),
    ];
    for (name, a, b) in cases {
        let mut t = Vec::new();
        for _ in 0..60 {
            let s = Instant::now();
            mx::eval([&mx::add(a, b, dev).unwrap()]).unwrap();
            t.push(s.elapsed().as_secs_f64() * 1e6);
        }
        let first = t[0];
        t.sort_by(f64::total_cmp);
        println!(
            "| {name:36} | first {first:.0}, min {:.0}, median {:.0}, max {:.0} µs | active {} MiB, cache {} MiB, peak {} MiB |",
            t[0],
            t[30],
            t[59],
            mx::get_active_memory() >> 20,
            mx::get_cache_memory() >> 20,
            mx::get_peak_memory() >> 20
        );
    }
    let mut t = Vec::new();
    for _ in 0..7 {
        let s = Instant::now();
        mx::eval([&mx::exp(&ga, dev).unwrap()]).unwrap();
        t.push(s.elapsed().as_secs_f64() * 1e6);
    }
    println!(
        "| wmx exp | {:?} µs |",
        t.iter().map(|x| x.round()).collect::<Vec<_>>()
    );
    wmx_chain(9);
}

/// 1,000 chained small adds in one eval (the issue's overhead row): median µs per op over `runs`.
fn wmx_chain(runs: usize) {
    use wmx::{self as mx, Device};
    let dev = Device::gpu(0);
    let s = mx::contiguous(&mx::Array::from_slice(&[1.0f32; 256], &[256]), dev).unwrap();
    mx::eval([&s]).unwrap();
    let mut t = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let mut x = s.clone();
        for _ in 0..1000 {
            x = mx::add(&x, &s, dev).unwrap();
        }
        mx::eval([&x]).unwrap();
        t.push(start.elapsed().as_secs_f64() * 1e3);
    }
    t.sort_by(f64::total_cmp);
    println!(
        "| wmx chain of 1000 adds (WMX_BATCH_DISPATCHES={}) | {:.2} µs/op (median of {runs}) |",
        std::env::var("WMX_BATCH_DISPATCHES").unwrap_or_default(),
        t[runs / 2]
    );
}
