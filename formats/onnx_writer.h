// ONNX writer: the IR -> ModelProto (libonnx-dev's protobuf classes), the counterpart of
// onnx_reader.h. Mapping (normative text in docs/export.md):
//
// * Dense weights become initializers in raw_data with their own dtype.
// * A quantized weight W becomes integer codes + DequantizeLinear (opset 21 semantics) whose
//   output keeps the name W, so every consumer reads it unchanged:
//     W.q (UINT4 for bits <= 4, packed two per byte, low nibble first; UINT8 for 5..8 bits),
//     W.scale (f16, exactly our scales) -> Cast to f32 -> DequantizeLinear's x_scale,
//     W.zero_point (same type as W.q; symmetric: 2^(bits-1)).
//   One group per row: per-axis DQL. Otherwise blocked DQL with block_size = group_size on the
//   reduction axis; a tail group is a partial last block (scale dim = ceil(cols / group), as the
//   spec defines). Default and col_axis views dequantize the 2-D [rows, cols] codes and Reshape
//   to W's shape when that differs; transposed views store codes as W's own [K, N] and block along
//   axis 0. Values equal the reference decoder's bit for bit (f16 -> f32 is exact; DQL computes
//   (q - zp) * scale in f32).
// * Quantized weights need ai.onnx opset >= 21: older graphs are upgraded first
//   (onnx_opset_upgrade.h); a float model keeps its opset.
// * Weights only one If/Loop body reads (the reader hoists them) are written back as that body's
//   initializers, so ORT treats them as constants there, as in the source.
// * ir_version follows the opset (opset 21 -> IR 10, 23 -> IR 11; never below 4, so initializers
//   need not be graph inputs).
// Limitation: one-element TENSOR attributes were read as int64/double, so they are written back
// as INT64 / FLOAT tensors (ConstantOfShape with an int32 or f16 value changes type).
#pragma once
#include <cstdint>
#include <string>

#include "core/model.h"
#include "core/status.h"

namespace edgepack {

struct onnx_write_options {
  // Lowest ai.onnx opset to write; 0 keeps the model's (raised to 21 when a weight is quantized).
  int64_t min_opset = 0;
};

struct onnx_write_stats {
  int64_t opset_in = 0;
  int64_t opset_out = 0;
  int64_t quantized_weights = 0;
  int64_t dense_weights = 0;
  uint64_t bytes = 0;  // serialized size
};

// Builds the ModelProto and returns its serialized bytes. Errors: bad_input (an encoding or op
// that cannot be expressed, naming the tensor or node), internal (protobuf failure).
Expected<std::string> serialize_onnx(const model& m, const onnx_write_options& options, onnx_write_stats* stats);

// serialize_onnx, then an atomic write (temp file, fsync, rename): nothing is written on error.
[[nodiscard]] Status write_onnx(const std::string& path, const model& m, const onnx_write_options& options, onnx_write_stats* stats);

}  // namespace edgepack
