// index.wgsl — shared helpers of the elementwise families (unary, binary, ternary, creation,
// copy): index maps for strided and dense inputs, the 2-D grid's linear id, and the loop that
// fills one 32-bit output word. Not a kernel: the prelude generator appends it to those preludes.
// Contract: the family declares `info: array<u32>` laid out as
//   [n, ndim, shape[ndim], then per input k: strides_k[ndim] (i32 bits), offset_k]
// (contiguous variants pass ndim = 0, so input k's offset sits at info[2 + k]) and defines
// `fn value_at(i: u32) -> C_OUT`, the value of output element i.

// Element index in input `k` of logical (row-major) element `i`, for strided inputs. The two
// top bits of an offset word may flag a layout that needs no division per dimension: 10 dense
// (`offset + i`), 11 a row-major block repeated (`offset + i % period`, period in the first
// stride slot), as the elementwise host code marks them.
fn wmx_strided_index(i: u32, k: u32) -> u32 {
    let ndim = info[1];
    let base = 2u + ndim + k * (ndim + 1u);
    let word = info[base + ndim];
    let flags = word >> 30u;
    if (flags == 2u) { return (word & 0x3fffffffu) + i; }
    if (flags == 3u) { return (word & 0x3fffffffu) + i % info[base]; }
    var idx = bitcast<i32>(word);
    var rem = i;
    for (var d = ndim; d > 0u; d = d - 1u) {
        let dim = info[1u + d];
        let c = rem % dim;
        rem = rem / dim;
        idx = idx + i32(c) * bitcast<i32>(info[base + d - 1u]);
    }
    return u32(idx);
}

// Element index in input `k` of element `i` when the input is dense (ndim = 0 in info).
fn wmx_contig_index(i: u32, k: u32) -> u32 {
    return i + info[2u + k];
}

// Linear id of the output word this invocation owns, on a 2-D grid of workgroups.
fn wmx_word_id(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * WG;
}

// Computes the OUT_PER_WORD elements of output word `w` (those below `n`) and stores the word, so
// packed outputs (four bools or uint8s, two halves) are written whole by one invocation.
fn wmx_write_word(w: u32, n: u32) {
    var v: array<C_OUT, OUT_PER_WORD>;
    for (var j = 0u; j < OUT_PER_WORD; j = j + 1u) {
        let i = w * OUT_PER_WORD + j;
        if (i < n) { v[j] = value_at(i); }
    }
    store_out(w, v);
}

// The body of a one-word-per-invocation entry point: writes output word `w` unless it lies past
// the `n = info[0]` elements.
fn wmx_word_entry(gid: vec3<u32>, nwg: vec3<u32>) {
    let w = wmx_word_id(gid, nwg);
    if (w * OUT_PER_WORD >= info[0]) { return; }
    wmx_write_word(w, info[0]);
}
