#!/usr/bin/env python3
"""Deterministic extra input sets for the ONNX accuracy table (docs/benchmarks.md).

The ONNX Runtime goldens give 2-4 inputs per model; accuracy measured only there is thin. This
script derives more from them, in plain Python (no numpy), byte-identical on every run:

  mnist-8   each golden digit shifted by +-2 pixels in x and y, and with Gaussian pixel noise
            (sigma 24 on the 0..255 scale, clipped); plus three digits drawn from strokes
            (a '1' bar, a '0' ring, a '7' hook), white on black like the goldens
  rec, cls  each golden line with Gaussian noise (sigma 0.06 in the normalised [-1, 1] space),
            with lowered contrast (x * 0.85), and shifted right by 4 pixels (zero fill)
  det       the golden image with noise (sigma 0.08 normalised), lowered contrast (x * 0.85),
            and shifted by 8 pixels right and 4 down (edge fill)
  silero    both golden cases with Gaussian noise (sigma 0.002) added to every audio chunk;
            steps, sr and the zero initial state are copied, and so is the manifest (state_carry)

Layout: OUT/<model>/<case>/input_<k>.npy (the golden layout, k = graph input index), so
`edgepack verify M --against M.onnx --inputs OUT/<model>` reads every case.

usage: bench/make_extra_inputs.py SHARED_DIR OUT_DIR
"""
import ast
import math
import os
import random
import shutil
import struct
import sys


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path
    major = data[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", data[8:10])
        start = 10
    else:
        (hlen,) = struct.unpack("<I", data[8:12])
        start = 12
    header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    assert header["descr"] == "<f4" and not header["fortran_order"], (path, header)
    shape = tuple(header["shape"])
    count = 1
    for d in shape:
        count *= d
    values = list(struct.unpack("<%df" % count, data[start + hlen:start + hlen + 4 * count]))
    return shape, values


def write_npy(path, shape, values):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shape_text = "(" + "".join("%d, " % d for d in shape).rstrip(" ") + ")" if len(shape) != 1 else "(%d,)" % shape[0]
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % shape_text
    total = 10 + len(header) + 1
    header += " " * ((64 - total % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(struct.pack("<%df" % len(values), *values))


class Gauss:
    """Box-Muller on random.Random.random(): the same numbers on every Python version."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def __call__(self):
        u1 = max(self.rng.random(), 1e-12)
        u2 = self.rng.random()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def noisy(values, sigma, seed, lo=None, hi=None):
    g = Gauss(seed)
    out = []
    for v in values:
        x = v + sigma * g()
        if lo is not None:
            x = min(max(x, lo), hi)
        out.append(f32(x))
    return out


def shifted(shape, values, dx, dy, fill=None):
    """Shift every [H, W] plane of an NCHW tensor; fill=None repeats the edge pixel."""
    h, w = shape[-2], shape[-1]
    planes = len(values) // (h * w)
    out = []
    for p in range(planes):
        base = p * h * w
        for y in range(h):
            for x in range(w):
                sy, sx = y - dy, x - dx
                if 0 <= sy < h and 0 <= sx < w:
                    out.append(values[base + sy * w + sx])
                elif fill is None:
                    out.append(values[base + min(max(sy, 0), h - 1) * w + min(max(sx, 0), w - 1)])
                else:
                    out.append(fill)
    return out


def stroke_digit(kind):
    """A 28x28 white-on-black digit drawn from thick strokes (0..255), centred like MNIST."""
    img = [0.0] * (28 * 28)

    def dot(cx, cy, r=1.6):
        for y in range(28):
            for x in range(28):
                d = math.hypot(x - cx, y - cy)
                if d <= r + 0.5:
                    img[y * 28 + x] = max(img[y * 28 + x], 255.0 * min(1.0, r + 0.5 - d + 0.5))

    def line(x0, y0, x1, y1):
        n = int(max(abs(x1 - x0), abs(y1 - y0)) * 2) + 1
        for i in range(n + 1):
            t = i / n
            dot(x0 + t * (x1 - x0), y0 + t * (y1 - y0))

    if kind == 1:
        line(14, 5, 14, 22)
        line(14, 5, 11, 8)
    elif kind == 0:
        for i in range(64):
            a = 2 * math.pi * i / 64
            dot(14 + 6 * math.cos(a), 14 + 8.5 * math.sin(a))
    elif kind == 7:
        line(8, 6, 20, 6)
        line(20, 6, 12, 22)
    return [f32(v) for v in img]


def mnist(shared, out):
    golden = os.path.join(shared, "models", "mnist-8", "golden")
    dst = os.path.join(out, "mnist-8")
    for case in ("digit_0", "digit_3", "digit_7"):
        shape, values = read_npy(os.path.join(golden, case, "input_0.npy"))
        for dx, dy, tag in ((2, 0, "right"), (-2, 0, "left"), (0, 2, "down"), (0, -2, "up")):
            write_npy(os.path.join(dst, "%s_shift_%s" % (case, tag), "input_0.npy"), shape, shifted(shape, values, dx, dy, fill=0.0))
        write_npy(os.path.join(dst, case + "_noise", "input_0.npy"), shape, noisy(values, 24.0, 1000 + int(case[-1]), 0.0, 255.0))
    for kind in (0, 1, 7):
        write_npy(os.path.join(dst, "stroke_%d" % kind, "input_0.npy"), (1, 1, 28, 28), stroke_digit(kind))


def ocr_line(shared, out, model, cases, shift_fill):
    golden = os.path.join(shared, "models", "paddleocr", "golden")
    dst = os.path.join(out, model)
    for seed, case in enumerate(cases):
        shape, values = read_npy(os.path.join(golden, case, "input_0.npy"))
        write_npy(os.path.join(dst, case + "_noise", "input_0.npy"), shape, noisy(values, 0.06, 2000 + seed, -1.0, 1.0))
        write_npy(os.path.join(dst, case + "_contrast", "input_0.npy"), shape, [f32(v * 0.85) for v in values])
        write_npy(os.path.join(dst, case + "_shift", "input_0.npy"), shape, shifted(shape, values, 4, 0, fill=shift_fill))


def det(shared, out):
    golden = os.path.join(shared, "models", "paddleocr", "golden", "det_three_lines")
    dst = os.path.join(out, "det")
    shape, values = read_npy(os.path.join(golden, "input_0.npy"))
    write_npy(os.path.join(dst, "det_noise", "input_0.npy"), shape, noisy(values, 0.08, 3000))
    write_npy(os.path.join(dst, "det_contrast", "input_0.npy"), shape, [f32(v * 0.85) for v in values])
    write_npy(os.path.join(dst, "det_shift", "input_0.npy"), shape, shifted(shape, values, 8, 4))


def silero(shared, out):
    golden = os.path.join(shared, "models", "silero-vad", "golden")
    dst = os.path.join(out, "silero")
    for seed, case in enumerate(("legacy_speech", "legacy_noise")):
        src = os.path.join(golden, case)
        os.makedirs(os.path.join(dst, case + "_noisy"), exist_ok=True)
        shutil.copyfile(os.path.join(src, "manifest.json"), os.path.join(dst, case + "_noisy", "manifest.json"))
        step = 0
        while os.path.isdir(os.path.join(src, "step_%d" % step)):
            for name in sorted(os.listdir(os.path.join(src, "step_%d" % step))):
                if not name.startswith("input_"):
                    continue
                s = os.path.join(src, "step_%d" % step, name)
                d = os.path.join(dst, case + "_noisy", "step_%d" % step, name)
                os.makedirs(os.path.dirname(d), exist_ok=True)
                if name == "input_0.npy":  # the audio chunk
                    shape, values = read_npy(s)
                    write_npy(d, shape, noisy(values, 0.002, 4000 + 100 * seed + step, -1.0, 1.0))
                else:
                    shutil.copyfile(s, d)
            step += 1


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    shared, out = sys.argv[1], sys.argv[2]
    mnist(shared, out)
    ocr_line(shared, out, "rec", ("rec_hello_2026", "rec_edge_device"), 0.0)
    ocr_line(shared, out, "cls", ("cls_upright", "cls_rotated180"), 0.0)
    det(shared, out)
    silero(shared, out)


if __name__ == "__main__":
    main()
