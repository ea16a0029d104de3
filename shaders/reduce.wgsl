// reduce.wgsl — reductions (sum, prod, max, min, all, any) over any set of axes of a strided input.
// Output element g = o * n_chunks + c reduces chunk c of the reduced range of output o (n_chunks > 1
// only for the first pass of a two-pass reduction of a few long rows).
// Prelude provides: WG; S_IN0, S_OUT; C_IN0; C_OUT (accumulator: f32, i32 or u32); load_in0(i)
//   (reduce_vec4: load4_in0(q), quad q = elements 4q..4q+3);
//   to_acc(x: C_IN0) -> C_OUT; combine(a, b) -> C_OUT; store_out1(i, v);
//   identity() -> C_OUT (a fn: ±inf is no const expression); the INFO_* word offsets.
// Bindings: 0 info, 1 in0 (read), 2 out (read_write, unpacked).
// info: [n_out, rsize, n_chunks, chunk_len, on, out_shape[on], out_strides[on],
//        rn, red_shape[rn], red_strides[rn], offset]   (strides and offset are i32 bits)

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;
@group(0) @binding(2) var<storage, read_write> out: array<S_OUT>;

var<workgroup> partial: array<C_OUT, WG>;

// Element offset of the first input element of output `o`.
fn out_base(o: u32) -> i32 {
    let on = info[INFO_KEPT_NDIM];
    var rem = o;
    var idx = 0;
    for (var d = on; d > 0u; d = d - 1u) {
        let dim = info[INFO_KEPT_NDIM + d];
        let c = rem % dim;
        rem = rem / dim;
        idx = idx + i32(c) * bitcast<i32>(info[INFO_KEPT_NDIM + on + d]);
    }
    let rn = info[INFO_KEPT_NDIM + 1u + 2u * on];
    return idx + bitcast<i32>(info[INFO_KEPT_NDIM + 2u + 2u * on + 2u * rn]);
}

// Element offset of reduced element `r` relative to its output's base.
fn red_offset(r: u32) -> i32 {
    let on = info[INFO_KEPT_NDIM];
    let rb = INFO_KEPT_NDIM + 1u + 2u * on;
    let rn = info[rb];
    // One reduced run (the host merges contiguous reduced axes): no division needed.
    if (rn == 1u) { return i32(r) * bitcast<i32>(info[rb + 2u]); }
    var rem = r;
    var idx = 0;
    for (var d = rn; d > 0u; d = d - 1u) {
        let dim = info[rb + d];
        let c = rem % dim;
        rem = rem / dim;
        idx = idx + i32(c) * bitcast<i32>(info[rb + rn + d]);
    }
    return idx;
}

// Combines one value per invocation into one (a tree in workgroup memory); every invocation
// must call it.
fn workgroup_combine(lid: u32, v: C_OUT) -> C_OUT {
    partial[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
        if (lid < s) { partial[lid] = combine(partial[lid], partial[lid + s]); }
        workgroupBarrier();
    }
    return partial[0];
}

// The output and the range [r0, r1) of reduced elements that workgroup `g` combines (its output
// `o` is at or past n_out for the grid's spare workgroups).
struct Chunk {
    o: u32,
    r0: u32,
    r1: u32,
}

fn chunk_of(g: u32) -> Chunk {
    let n_chunks = info[INFO_N_CHUNKS];
    let r0 = (g % n_chunks) * info[INFO_CHUNK_LEN];
    return Chunk(g / n_chunks, r0, min(info[INFO_RSIZE], r0 + info[INFO_CHUNK_LEN]));
}

// One workgroup per (output, chunk): threads stride over the chunk, then a tree in workgroup memory.
@compute @workgroup_size(WG)
fn reduce_wg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let g = wid.x + wid.y * nwg.x;
    let chunk = chunk_of(g);
    if (chunk.o >= info[INFO_N_OUT]) { return; }
    let r0 = chunk.r0;
    let r1 = chunk.r1;
    let base = out_base(chunk.o);
    // Four independent accumulators keep four loads in flight per invocation (memory-level
    // parallelism is what a bandwidth-bound reduction is short of).
    var acc = identity();
    var acc1 = identity();
    var acc2 = identity();
    var acc3 = identity();
    var r = r0 + lid;
    for (; r + 3u * WG < r1; r = r + 4u * WG) {
        acc = combine(acc, to_acc(load_in0(u32(base + red_offset(r)))));
        acc1 = combine(acc1, to_acc(load_in0(u32(base + red_offset(r + WG)))));
        acc2 = combine(acc2, to_acc(load_in0(u32(base + red_offset(r + 2u * WG)))));
        acc3 = combine(acc3, to_acc(load_in0(u32(base + red_offset(r + 3u * WG)))));
    }
    for (; r < r1; r = r + WG) {
        acc = combine(acc, to_acc(load_in0(u32(base + red_offset(r)))));
    }
    let total = workgroup_combine(lid, combine(combine(acc, acc1), combine(acc2, acc3)));
    if (lid == 0u) { store_out1(g, total); }
}

// Quads: the reduced run is dense (stride 1) and every chunk and output start is a multiple of
// 4 elements, so invocations read whole quads (one vec4/vec2/u32 load per four elements).
fn combine4(x: vec4<C_IN0>) -> C_OUT {
    return combine(combine(to_acc(x.x), to_acc(x.y)), combine(to_acc(x.z), to_acc(x.w)));
}

@compute @workgroup_size(WG)
fn reduce_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let g = wid.x + wid.y * nwg.x;
    let chunk = chunk_of(g);
    if (chunk.o >= info[INFO_N_OUT]) { return; }
    let base = u32(out_base(chunk.o));
    let q1 = (base + chunk.r1) >> 2u;
    var q = ((base + chunk.r0) >> 2u) + lid;
    var acc = identity();
    var acc1 = identity();
    var acc2 = identity();
    var acc3 = identity();
    for (; q + 3u * WG < q1; q = q + 4u * WG) {
        let x0 = load4_in0(q);
        let x1 = load4_in0(q + WG);
        let x2 = load4_in0(q + 2u * WG);
        let x3 = load4_in0(q + 3u * WG);
        acc = combine(acc, combine4(x0));
        acc1 = combine(acc1, combine4(x1));
        acc2 = combine(acc2, combine4(x2));
        acc3 = combine(acc3, combine4(x3));
    }
    for (; q < q1; q = q + WG) {
        acc = combine(acc, combine4(load4_in0(q)));
    }
    let total = workgroup_combine(lid, combine(combine(acc, acc1), combine(acc2, acc3)));
    if (lid == 0u) { store_out1(g, total); }
}

// One invocation per output: for many outputs with short reductions (n_chunks must be 1).
@compute @workgroup_size(WG)
fn reduce_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = gid.x + gid.y * nwg.x * WG;
    if (o >= info[INFO_N_OUT]) { return; }
    let base = out_base(o);
    var acc = identity();
    for (var r = 0u; r < info[INFO_RSIZE]; r = r + 1u) {
        acc = combine(acc, to_acc(load_in0(u32(base + red_offset(r)))));
    }
    store_out1(o, acc);
}
