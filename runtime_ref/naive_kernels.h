// Naive kernels: the readable definitions of the GEMM-shaped ops, straight from the ONNX spec as
// nested loops with double accumulation. The registered kernels (kernels/matmul.cpp, gemm.cpp,
// conv.cpp, conv_transpose.cpp) are the fast paths; tests run both on the same node and compare.
// They take the same kernel_io and validate through the same helpers, but are not registered.
#pragma once
#include "runtime_ref/kernel.h"

namespace edgepack {

Status matmul_naive(kernel_io& io);
Status gemm_naive(kernel_io& io);
Status conv_naive(kernel_io& io);            // 1-D and 2-D, group, stride, dilation, pads, auto_pad
Status conv_transpose_naive(kernel_io& io);  // 1-D and 2-D, group, stride, dilation, pads, output_padding

}  // namespace edgepack
