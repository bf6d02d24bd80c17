#include "passes/quantize_rtn.h"

#include <cmath>
#include <cstring>

#include "core/half_convert.h"
#include "core/parallel.h"
#include "core/quant_codes.h"

namespace edgepack {

namespace {

// Decodes row `row` of the matrix view `enc` gives the dense float tensor t into f32 (the caller
// checked the type is a float type). Trailing-dims views are contiguous; a transposed view's row
// is a strided column of t.
void load_row(const tensor& t, const quant_encoding& enc, int64_t row, float* out) {
  const size_t element_bytes = dtype_bits(t.type) / 8;
  const quant_matrix_view view = quant_view_of(t.shape, enc);
  if (!enc.transposed) {
    const std::byte* base = t.data.data + static_cast<size_t>(row * view.cols) * element_bytes;
    decode_float_elements(t.type, base, out, static_cast<size_t>(view.cols));
    return;
  }
  for (int64_t c = 0; c < view.cols; ++c)
    decode_float_elements(t.type, t.data.data + static_cast<size_t>(c * view.rows + row) * element_bytes, out + c, 1);
}

}  // namespace

Expected<tensor> quantize_tensor_rtn(const tensor& weight, const quantize_rtn_options& options, quantized_tensor_stats* stats) {
  if (weight.is_quantized() || !dtype_is_float(weight.type) || weight.shape.empty())
    return bad_input("only dense float tensors of rank >= 1 can be quantized");
  const quant_encoding& enc = options.encoding;
  if (const std::string problem = quant_layout_problem(weight.shape.size(), enc); !problem.empty()) return bad_input(problem);
  const quant_matrix_view view = quant_view_of(weight.shape, enc);
  const int64_t rows = view.rows, cols = view.cols;
  const int64_t groups = enc.groups_per_row(cols);
  // Codes are unpacked per row first, then packed in row order: the bitstream spans rows.
  std::vector<uint8_t> codes(static_cast<size_t>(rows * cols));
  std::vector<std::byte> scales(static_cast<size_t>(rows * groups) * sizeof(uint16_t));
  std::vector<uint8_t> zeros(enc.symmetric ? 0 : static_cast<size_t>(rows * groups));
  // Per-row sums, added up in row order afterwards: a per-thread reduction would make the
  // reported error (stored in .epk metadata) depend on the thread count.
  std::vector<double> row_error_sq(static_cast<size_t>(rows)), row_norm_sq(static_cast<size_t>(rows));
  std::vector<uint8_t> row_finite(static_cast<size_t>(rows), 1);
  parallel_for(rows, options.threads, [&](int64_t begin, int64_t end) {
    std::vector<float> row(static_cast<size_t>(cols));
    std::vector<uint8_t> zero_scratch(static_cast<size_t>(groups));
    for (int64_t r = begin; r < end; ++r) {
      load_row(weight, enc, r, row.data());
      uint16_t* row_scales = reinterpret_cast<uint16_t*>(scales.data()) + r * groups;
      uint8_t* row_zeros = enc.symmetric ? zero_scratch.data() : zeros.data() + r * groups;
      const rtn_row_result result = quantize_row_rtn(row.data(), cols, enc, options.rows, codes.data() + r * cols, row_scales, row_zeros);
      row_error_sq[static_cast<size_t>(r)] = result.squared_error;
      row_norm_sq[static_cast<size_t>(r)] = result.squared_norm;
      row_finite[static_cast<size_t>(r)] = result.finite ? 1 : 0;
    }
  });
  double error_sq = 0, norm_sq = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (!row_finite[static_cast<size_t>(r)]) return bad_input("row " + std::to_string(r) + " holds NaN or Inf values; refusing to quantize");
    error_sq += row_error_sq[static_cast<size_t>(r)];
    norm_sq += row_norm_sq[static_cast<size_t>(r)];
  }
  tensor out;
  out.type = dtype::f32;
  out.shape = weight.shape;
  out.kind = encoding_kind::quantized;
  out.quant = enc;
  std::vector<std::byte> packed(packed_code_bytes(enc.bits, codes.size()));
  pack_codes(codes, enc.bits, packed);
  out.data = make_owned_view(std::move(packed));
  out.scales = make_owned_view(std::move(scales));
  if (!enc.symmetric) {
    std::vector<std::byte> packed_zeros(packed_code_bytes(enc.bits, zeros.size()));
    pack_codes(zeros, enc.bits, packed_zeros);
    out.zeros = make_owned_view(std::move(packed_zeros));
  }
  if (stats != nullptr) {
    stats->relative_error = norm_sq > 0 ? std::sqrt(error_sq / norm_sq) : 0.0;
    stats->bytes_before = weight.stored_bytes();
    stats->bytes_after = out.stored_bytes();
  }
  return out;
}

nlohmann::json quantized_tensor_stats_json(const std::string& name, const quantized_tensor_stats& stats) {
  return {{"name", name}, {"relative_error", stats.relative_error}, {"bytes_before", stats.bytes_before}, {"bytes_after", stats.bytes_after}};
}

Expected<pass_result> quantize_rtn(const model& in, const quantize_rtn_options& options) {
  EP_ASSIGN_OR_RETURN(std::vector<selected_weight> names, select_weights(in.g, options.selection));
  pass_result result{in, false, nlohmann::json::object()};
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& [name, view, reader] : names) {
    quantized_tensor_stats stats;
    quantize_rtn_options weight_options = options;
    weight_options.encoding = encoding_for(options.encoding, view);  // the scheme in this weight's matrix view
    auto quantized = quantize_tensor_rtn(in.g.weights.at(name), weight_options, &stats);
    if (!quantized.ok()) return quantized.status().with_context("tensor '" + name + "'");
    result.out.g.weights[name] = std::move(quantized).value();
    tensors.push_back(quantized_tensor_stats_json(name, stats));
  }
  result.changed = !names.empty();
  result.stats = {{"pass", "quantize_rtn"}, {"scheme", quant_encoding_name(options.encoding)}, {"tensors", tensors}};
  return result;
}

}  // namespace edgepack
