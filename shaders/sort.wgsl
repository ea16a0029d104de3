// sort.wgsl — argsort along the last axis by ranking: the invocation of element i of a row counts
// the elements that sort before it (smaller, or equal with a smaller index: a stable sort) and
// writes i at that rank. O(n) per element, so O(n^2) per row: exact and simple, for the moderate
// row lengths of permutation and argsort; a merge sort is future work.
// Prelude provides: WG; S_IN0; C_IN0; load_in0(i); sorts_before(a, b) -> bool (strict order, NaN
//   last).
// Bindings: 0 info ([n_total, row_len]), 1 in0 (read, dense rows), 2 out (read_write, u32).

@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read> in0: array<S_IN0>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(WG)
fn argsort_rank(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= info[0]) { return; }
    let len = info[1];
    let row = i / len;
    let base = row * len;
    let me = i - base;
    let k = load_in0(i);
    var rank = 0u;
    for (var j = 0u; j < len; j = j + 1u) {
        let o = load_in0(base + j);
        if (sorts_before(o, k) || (j < me && !sorts_before(k, o))) { rank = rank + 1u; }
    }
    out[base + rank] = me;
}
