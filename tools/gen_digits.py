#!/usr/bin/env python3
"""Writes the UCI handwritten digits (1,797 8x8 images, as bundled with scikit-learn) as the four
standard MNIST IDX files, gzipped, under examples/mnist/digits/: the default data set of
`cargo run --release --example mnist`, so it trains on a fresh machine with no download.

Usage:  python3 tools/gen_digits.py [out_dir]

The split is fixed: a seeded permutation (numpy default_rng(0)), the first 1,438 images (80%)
for training, the other 359 for testing. Pixels are the data set's 0..16 counts (the loader
divides by the file's maximum, so MNIST's 0..255 and these load alike). gzip's header time is
zeroed so re-running reproduces the files byte for byte.
"""

import gzip
import os
import struct
import sys

import numpy as np
from sklearn.datasets import load_digits

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "examples", "mnist", "digits")
os.makedirs(out, exist_ok=True)
d = load_digits()
images = d.images.astype(np.uint8)  # (1797, 8, 8), values 0..16
labels = d.target.astype(np.uint8)
perm = np.random.default_rng(0).permutation(len(labels))
images, labels = images[perm], labels[perm]
n_train = int(round(0.8 * len(labels)))


def write(name, magic, dims, data):
    raw = struct.pack(">I", magic) + b"".join(struct.pack(">I", x) for x in dims) + data.tobytes()
    with open(os.path.join(out, name), "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as g:
            g.write(raw)


for prefix, sl in (("train", slice(0, n_train)), ("t10k", slice(n_train, None))):
    im, lb = images[sl], labels[sl]
    write(f"{prefix}-images-idx3-ubyte.gz", 0x00000803, im.shape, im)
    write(f"{prefix}-labels-idx1-ubyte.gz", 0x00000801, lb.shape, lb)
print(f"wrote {n_train} training and {len(labels) - n_train} test images to {out}")
