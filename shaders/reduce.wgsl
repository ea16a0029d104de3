// reduce.wgsl — reductions (sum, prod, max, min, all, any) over any set of axes of strided inputs.
// Output element g = o * n_chunks + c reduces chunk c of the reduced range of output o (n_chunks > 1
// only for the first pass of a two-pass reduction of a few long rows). The value reduced comes from
// NIN strided inputs through `src_at`: one input for a plain reduction, or a fused elementwise
// prologue of several (`compile`), whose epilogue `store_result` applies.
// Prelude provides: WG; NIN; Bases (= array<i32, NIN>: one element offset per input); C_SRC (the
//   value reduced), C_ACC (accumulator: f32, i32 or u32); src_at(b: Bases) -> C_SRC;
//   src4_at(q) -> vec4<C_SRC> (reduce_vec4: the values of quad q = elements 4q..4q+3 of input 0,
//   every input dense alike); to_acc(x: C_SRC) -> C_ACC; combine(a, b) -> C_ACC;
//   identity() -> C_ACC (a fn: ±inf is no const expression); store_result(g, v: C_ACC); the
//   input and output bindings (1..NIN, NIN + 1); the INFO_* word offsets.
// Bindings: 0 info, 1..NIN inputs (read), NIN + 1 out (read_write, unpacked).
// info: [n_out, rsize, n_chunks, chunk_len, on, out_shape[on], out_strides[NIN][on],
//        rn, red_shape[rn], red_strides[NIN][rn], offset[NIN]]   (strides and offsets: i32 bits)

@group(0) @binding(0) var<storage, read> info: array<u32>;

var<workgroup> partial: array<C_ACC, WG>;

// Element offsets (one per input) of the first input element of output `o`.
fn out_base(o: u32) -> Bases {
    let on = info[INFO_KEPT_NDIM];
    var b: Bases;
    var rem = o;
    for (var d = on; d > 0u; d = d - 1u) {
        let dim = info[INFO_KEPT_NDIM + d];
        let c = i32(rem % dim);
        rem = rem / dim;
        for (var k = 0u; k < NIN; k = k + 1u) {
            b[k] = b[k] + c * bitcast<i32>(info[INFO_KEPT_NDIM + on * (1u + k) + d]);
        }
    }
    let rb = INFO_KEPT_NDIM + 1u + on * (1u + NIN);
    let offsets = rb + 1u + info[rb] * (1u + NIN);
    for (var k = 0u; k < NIN; k = k + 1u) {
        b[k] = b[k] + bitcast<i32>(info[offsets + k]);
    }
    return b;
}

// Element offsets of reduced element `r` from the bases `b` of its output.
fn red_at(b: Bases, r: u32) -> Bases {
    let on = info[INFO_KEPT_NDIM];
    let rb = INFO_KEPT_NDIM + 1u + on * (1u + NIN);
    let rn = info[rb];
    var e = b;
    // One reduced run (the host merges contiguous reduced axes): no division needed.
    if (rn == 1u) {
        for (var k = 0u; k < NIN; k = k + 1u) {
            e[k] = e[k] + i32(r) * bitcast<i32>(info[rb + 2u + k]);
        }
        return e;
    }
    var rem = r;
    for (var d = rn; d > 0u; d = d - 1u) {
        let dim = info[rb + d];
        let c = i32(rem % dim);
        rem = rem / dim;
        for (var k = 0u; k < NIN; k = k + 1u) {
            e[k] = e[k] + c * bitcast<i32>(info[rb + rn * (1u + k) + d]);
        }
    }
    return e;
}

// The accumulator of reduced element `r` of the output at bases `b`.
fn acc_at(b: Bases, r: u32) -> C_ACC {
    return to_acc(src_at(red_at(b, r)));
}

// Combines one value per invocation into one (a tree in workgroup memory); every invocation
// must call it.
fn workgroup_combine(lid: u32, v: C_ACC) -> C_ACC {
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
        acc = combine(acc, acc_at(base, r));
        acc1 = combine(acc1, acc_at(base, r + WG));
        acc2 = combine(acc2, acc_at(base, r + 2u * WG));
        acc3 = combine(acc3, acc_at(base, r + 3u * WG));
    }
    for (; r < r1; r = r + WG) {
        acc = combine(acc, acc_at(base, r));
    }
    let total = workgroup_combine(lid, combine(combine(acc, acc1), combine(acc2, acc3)));
    if (lid == 0u) { store_result(g, total); }
}

// Quads: the reduced run is dense (stride 1) and every chunk and output start is a multiple of
// 4 elements, so invocations read whole quads (one vec4/vec2/u32 load per four elements).
fn combine4(x: vec4<C_SRC>) -> C_ACC {
    return combine(combine(to_acc(x.x), to_acc(x.y)), combine(to_acc(x.z), to_acc(x.w)));
}

@compute @workgroup_size(WG)
fn reduce_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let g = wid.x + wid.y * nwg.x;
    let chunk = chunk_of(g);
    if (chunk.o >= info[INFO_N_OUT]) { return; }
    let base = u32(out_base(chunk.o)[0]);
    let q1 = (base + chunk.r1) >> 2u;
    var q = ((base + chunk.r0) >> 2u) + lid;
    var acc = identity();
    var acc1 = identity();
    var acc2 = identity();
    var acc3 = identity();
    for (; q + 3u * WG < q1; q = q + 4u * WG) {
        let x0 = src4_at(q);
        let x1 = src4_at(q + WG);
        let x2 = src4_at(q + 2u * WG);
        let x3 = src4_at(q + 3u * WG);
        acc = combine(acc, combine4(x0));
        acc1 = combine(acc1, combine4(x1));
        acc2 = combine(acc2, combine4(x2));
        acc3 = combine(acc3, combine4(x3));
    }
    for (; q < q1; q = q + WG) {
        acc = combine(acc, combine4(src4_at(q)));
    }
    let total = workgroup_combine(lid, combine(combine(acc, acc1), combine(acc2, acc3)));
    if (lid == 0u) { store_result(g, total); }
}

// One invocation per output: for many outputs with short reductions (n_chunks must be 1).
@compute @workgroup_size(WG)
fn reduce_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = gid.x + gid.y * nwg.x * WG;
    if (o >= info[INFO_N_OUT]) { return; }
    let base = out_base(o);
    var acc = identity();
    for (var r = 0u; r < info[INFO_RSIZE]; r = r + 1u) {
        acc = combine(acc, acc_at(base, r));
    }
    store_result(o, acc);
}
