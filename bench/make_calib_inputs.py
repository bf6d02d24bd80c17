#!/usr/bin/env python3
"""Deterministic calibration input sets for GPTQ on the shared ONNX models (docs/benchmarks.md).

Disjoint from what the accuracy table verifies on (the golden inputs and bench/make_extra_inputs.py's
noise sigma 24/0.06/0.08, contrast 0.85 and right/down shifts): every set here is another
perturbation of a golden input, with other seeds, noise levels, contrasts and shift directions.

  mnist-8   each golden digit (and the noise case) shifted by (-1, +1) and (+1, -1) pixels, and with
            noise sigma 16 (seed 5000+); 12 sets
  rec, cls  each golden line with noise sigma 0.03 (seed 6000+), contrast x 1.1 (clipped to [-1, 1]),
            and shifted left by 3 pixels (zero fill); 6 sets
  det       the golden image with noise sigma 0.04 (seed 7000), contrast x 0.7, shifted by 6 left and
            3 up (edge fill); 3 sets

Layout: OUT/<model>/<case>/input_0.npy, the layout `edgepack quantize --method gptq --calib DIR` reads.
usage: bench/make_calib_inputs.py SHARED_DIR OUT_DIR
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_extra_inputs import f32, noisy, read_npy, shifted, write_npy  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    shared, out = sys.argv[1], sys.argv[2]
    golden = os.path.join(shared, "models", "mnist-8", "golden")
    for i, case in enumerate(("digit_0", "digit_3", "digit_7", "noise")):
        shape, values = read_npy(os.path.join(golden, case, "input_0.npy"))
        dst = os.path.join(out, "mnist-8", case)
        write_npy(dst + "_shift_a/input_0.npy", shape, shifted(shape, values, -1, 1, fill=0.0))
        write_npy(dst + "_shift_b/input_0.npy", shape, shifted(shape, values, 1, -1, fill=0.0))
        write_npy(dst + "_noise16/input_0.npy", shape, noisy(values, 16.0, 5000 + i, 0.0, 255.0))
    ocr = os.path.join(shared, "models", "paddleocr", "golden")
    for model, cases in (("rec", ("rec_hello_2026", "rec_edge_device")), ("cls", ("cls_upright", "cls_rotated180"))):
        for i, case in enumerate(cases):
            shape, values = read_npy(os.path.join(ocr, case, "input_0.npy"))
            dst = os.path.join(out, model, case)
            write_npy(dst + "_noise03/input_0.npy", shape, noisy(values, 0.03, 6000 + i, -1.0, 1.0))
            write_npy(dst + "_contrast110/input_0.npy", shape, [f32(min(max(v * 1.1, -1.0), 1.0)) for v in values])
            write_npy(dst + "_shift_left/input_0.npy", shape, shifted(shape, values, -3, 0, fill=0.0))
    shape, values = read_npy(os.path.join(ocr, "det_three_lines", "input_0.npy"))
    dst = os.path.join(out, "det", "det")
    write_npy(dst + "_noise04/input_0.npy", shape, noisy(values, 0.04, 7000))
    write_npy(dst + "_contrast70/input_0.npy", shape, [f32(v * 0.7) for v in values])
    write_npy(dst + "_shift_up_left/input_0.npy", shape, shifted(shape, values, -6, -3))


if __name__ == "__main__":
    main()
