#!/usr/bin/env python3
"""Independent reader of an edgepack distill-targets directory (docs/distill.md), standard library only.

Parses manifest.json and every shard's safetensors header by hand (u64 LE length, JSON, data
section), checks sha256, tensor dtypes/shapes against the manifest, that offsets tile the data
section, and a few invariants of the values (BOS first, top-K log-probs descending with
sum(exp) <= 1, indices inside the vocabulary, full rows summing to 1). Prints one line per shard.
Exit status 0 when everything holds, 1 otherwise.

Usage: scripts/read_distill_targets.py DIR
"""
import hashlib
import json
import math
import os
import struct
import sys

SIZES = {"F32": 4, "F16": 2, "I32": 4, "I64": 8}
FORMATS = {"F32": "f", "I32": "i", "I64": "q"}


def fail(message):
    print("error: " + message)
    sys.exit(1)


def values(data, dtype, begin, count):
    size = SIZES[dtype]
    return struct.unpack_from("<%d%s" % (count, FORMATS[dtype]), data, begin * size)


def main(root):
    manifest = json.load(open(os.path.join(root, "manifest.json")))
    if manifest["format"] != "edgepack.distill_targets" or manifest["format_version"] != 1:
        fail("not a version-1 distill-targets manifest")
    targets = manifest["targets"]
    seq, vocab, k = targets["seq"], targets["vocab_size"], targets["top_k"]
    bos = manifest["tokenizer"]["bos_id"]
    width = vocab if k == 0 else k
    for shard in manifest["shards"]:
        path = os.path.join(root, shard["file"])
        raw = open(path, "rb").read()
        if len(raw) != shard["bytes"] or hashlib.sha256(raw).hexdigest() != shard["sha256"]:
            fail(path + ": size or sha256 differs from the manifest")
        (header_len,) = struct.unpack_from("<Q", raw, 0)
        header = json.loads(raw[8:8 + header_len])
        data = raw[8 + header_len:]
        meta = header.pop("__metadata__", {})
        n = shard["samples"]
        if int(meta["samples"]) != n or int(meta["first_sample"]) != shard["first_sample"]:
            fail(path + ": __metadata__ sample range differs from the manifest")
        spans = []
        for name, spec in manifest["tensors"].items():
            entry = header[name]
            if entry["dtype"] != spec["dtype"] or entry["shape"] != [n] + spec["sample_shape"]:
                fail(path + ": tensor %s is %s %s" % (name, entry["dtype"], entry["shape"]))
            begin, end = entry["data_offsets"]
            if end - begin != SIZES[entry["dtype"]] * math.prod(entry["shape"]):
                fail(path + ": tensor %s has %d bytes" % (name, end - begin))
            spans.append((begin, end))
        if sorted(header) != sorted(manifest["tensors"]):
            fail(path + ": tensor names differ from the manifest")
        spans.sort()
        if spans[0][0] != 0 or spans[-1][1] != len(data) or any(a[1] != b[0] for a, b in zip(spans, spans[1:])):
            fail(path + ": tensor data does not tile the data section")

        def view(name):
            begin = header[name]["data_offsets"][0]
            return data[begin:header[name]["data_offsets"][1]], header[name]["dtype"]

        ids, ids_type = view("token_ids")
        for s in range(n):
            if values(ids, ids_type, s * seq, 1)[0] != bos:
                fail(path + ": sample %d does not start with BOS" % s)
        logp, logp_type = view("teacher_logprobs" if k == 0 else "teacher_topk_logprobs")
        for row in range(0, n * seq, max(1, n * seq // 16)):  # a spread of rows
            r = values(logp, logp_type, row * width, width)
            mass = sum(math.exp(v) for v in r)
            if k == 0 and abs(mass - 1) > 1e-4:
                fail(path + ": row %d of full log-probs sums to %g" % (row, mass))
            if k != 0 and (mass > 1 + 1e-4 or any(a < b for a, b in zip(r, r[1:]))):
                fail(path + ": top-K row %d is not descending or exceeds mass 1" % row)
            if k != 0:
                idx, idx_type = view("teacher_topk_indices")
                if any(not 0 <= i < vocab for i in values(idx, idx_type, row * width, width)):
                    fail(path + ": top-K index outside the vocabulary in row %d" % row)
        print("%s: %d samples from %d, %d bytes, tensors %s" % (shard["file"], n, shard["first_sample"], len(raw),
                                                             ", ".join("%s %s%s" % (nm, header[nm]["dtype"], header[nm]["shape"]) for nm in sorted(header))))
    print("ok: %d samples x %d tokens, top_k %s, temperature %g" % (targets["samples"], seq, k or "full", targets["temperature"]))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        fail("usage: read_distill_targets.py DIR")
    main(sys.argv[1])
