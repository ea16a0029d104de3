// scatter.wgsl — MLX's scatter into a dense copy of the input (made beforehand by a copy kernel),
// one invocation per update element. Update u = (row I, slice position S) goes to
// out[start(I) + S], where the int32 indices are stacked as [k, m] (row j indexes axis
// `axes[j]`; a negative index wraps once) and unindexed axes start at 0; positions outside the
// array are dropped. The output is bound as 32-bit atomic words and each update is applied with a
// compare-exchange loop on the word holding its element, so packed elements (bool/u8 four per
// word, f16/bf16 two) and reducing modes with duplicate indices are exact; plain 32-bit scatter
// is a store (with duplicates one update wins).
// Prelude provides: WG; S_UPD, C_UPD; load_upd(i); ELEM_BITS, ELEM_MASK; get_elem(word, shift),
//   elem_bits(v) (the element's bits, unshifted); combine(old, update); PLAIN_STORE; the INFO_*
//   word offsets.
// Bindings: 0 info, 1 idx (read, i32), 2 upd (read), 3 out (read_write, atomic<u32>).
// info: [n_updates, ndim, slice_total, m, out_shape[ndim], slice_shape[ndim], slots[ndim]] where
//   slots[d] is j + 1 when axis d is indexed by row j, else 0.

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> idx: array<i32>;
@group(0) @binding(2) var<storage, read> upd: array<S_UPD>;
@group(0) @binding(3) var<storage, read_write> out: array<atomic<u32>>;

// Combines `v` into element `e` of the output.
fn apply(e: u32, v: C_UPD) {
    let per = 32u / ELEM_BITS;
    let w = e / per;
    let sh = (e % per) * ELEM_BITS;
    if (PLAIN_STORE) {
        atomicStore(&out[w], elem_bits(v));
        return;
    }
    var old = atomicLoad(&out[w]);
    loop {
        let bits = (elem_bits(combine(get_elem(old, sh), v)) & ELEM_MASK) << sh;
        let new_word = (old & ~(ELEM_MASK << sh)) | bits;
        let r = atomicCompareExchangeWeak(&out[w], old, new_word);
        if (r.exchanged) { break; }
        old = r.old_value;
    }
}

@compute @workgroup_size(WG)
fn scatter_apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let u = gid.x + gid.y * nwg.x * WG;
    if (u >= info[INFO_N]) { return; }
    let ndim = info[INFO_NDIM];
    let slice_total = info[INFO_SLICE_TOTAL];
    let m = info[INFO_M];
    let row = u / slice_total;
    var rem = u % slice_total;
    var pos = 0u;
    var mul = 1u;
    for (var d = ndim; d > 0u; d = d - 1u) {
        let n = i32(info[INFO_M + d]);
        let size = info[INFO_M + ndim + d];
        let c = rem % size;
        rem = rem / size;
        var start = 0;
        let slot = info[INFO_M + 2u * ndim + d];
        if (slot > 0u) {
            start = idx[(slot - 1u) * m + row];
            if (start < 0) { start = start + n; }
        }
        let p = start + i32(c);
        if (p < 0 || p >= n) { return; }
        pos = pos + u32(p) * mul;
        mul = mul * u32(n);
    }
    apply(pos, load_upd(u));
}
