#include "runtime_ref/sparse_linear.h"

#include <cstring>
#include <vector>

#include "core/half_convert.h"
#include "core/quant_codes.h"
#include "runtime_ref/kernel_threads.h"

namespace edgepack {

bool sparse_linear_supported(const tensor& w) {
  return w.is_sparse() && w.shape.size() == 2 && w.quant.col_axis == -1 && !w.quant.transposed && w.numel() > 0 &&
         (w.is_quantized() || w.type == dtype::f32);
}

namespace {

// 4-bit codes of stored values [k, k + count) into `out` (the stream is nibble-aligned at even k).
inline void unpack_codes(const std::byte* data, int bits, uint64_t k, int64_t count, float* out, int zero) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(data);
  if (bits == 4) {
    for (int64_t j = 0; j < count; ++j, ++k) out[j] = static_cast<float>(((bytes[k >> 1] >> ((k & 1) * 4)) & 15) - zero);
    return;
  }
  for (int64_t j = 0; j < count; ++j, ++k) out[j] = static_cast<float>(read_code(data, bits, k) - zero);
}

}  // namespace

void sparse_linear(const tensor& w, const float* x, int64_t batch, float* y) {
  const int64_t rows = w.shape[0], cols = w.shape[1];
  const sparse_encoding& s = w.sparsity;
  const bool quantized = w.is_quantized();
  const quant_encoding& q = w.quant;
  const int64_t groups = quantized ? q.groups_per_row(cols) : 1, group = quantized ? q.effective_group(cols) : cols;
  const auto* scales = reinterpret_cast<const uint16_t*>(w.scales.data);
  const int64_t per_row = s.layout == sparsity_layout::n_of_m ? s.kept_per_row(cols) : 0;
  const int index_bits = s.layout == sparsity_layout::n_of_m ? s.index_bits() : 0;
  const bool worth_threads = rows * cols * batch / 2 >= gemm_parallel_min_work;
  parallel_for(rows, worth_threads ? kernel_threads() : 1, [&](int64_t begin, int64_t end) {
    std::vector<float> value;  // the row's stored values, (code - zero) when quantized
    std::vector<int32_t> column;
    std::vector<int32_t> group_end;  // per quantization group: end of its stored values
    for (int64_t r = begin; r < end; ++r) {
      // 1. Decode the row's metadata once: columns and values of its stored entries.
      uint64_t k0 = 0;
      int64_t count = 0;
      column.clear();
      if (s.layout == sparsity_layout::n_of_m) {
        k0 = static_cast<uint64_t>(r * per_row);
        count = per_row;
        const auto* idx = reinterpret_cast<const uint8_t*>(w.indices.data);
        uint64_t k = k0;
        for (int64_t g0 = 0; g0 < cols; g0 += s.m) {
          const int64_t kept = s.kept_in_group(std::min<int64_t>(s.m, cols - g0));
          for (int64_t j = 0; j < kept; ++j, ++k) {
            const int32_t local = index_bits == 2 ? (idx[k >> 2] >> ((k & 3) * 2)) & 3 : static_cast<int32_t>(read_bit_field(w.indices.data, index_bits, k));
            column.push_back(static_cast<int32_t>(g0) + local);
          }
        }
      } else {
        uint32_t first = 0, last = 0;
        std::memcpy(&first, w.row_offsets.data + 4 * r, 4);
        std::memcpy(&last, w.row_offsets.data + 4 * (r + 1), 4);
        k0 = first;
        count = last - first;
        const auto* mask = reinterpret_cast<const uint8_t*>(w.mask.data);
        const uint64_t base = static_cast<uint64_t>(r * cols);
        for (int64_t c = 0; c < cols; ++c)
          if ((mask[(base + c) >> 3] >> ((base + c) & 7)) & 1) column.push_back(static_cast<int32_t>(c));
      }
      value.resize(static_cast<size_t>(count));
      group_end.assign(static_cast<size_t>(groups), 0);
      if (quantized) {
        // Stored values are in column order, so each quantization group is one contiguous run.
        int64_t j = 0;
        for (int64_t g = 0; g < groups; ++g) {
          const int64_t j0 = j;
          while (j < count && column[static_cast<size_t>(j)] < (g + 1) * group) ++j;
          const uint64_t gi = static_cast<uint64_t>(r * groups + g);
          const int zero = q.symmetric ? static_cast<int>(q.implicit_zero()) : read_code(w.zeros.data, q.bits, gi);
          unpack_codes(w.data.data, q.bits, k0 + static_cast<uint64_t>(j0), j - j0, value.data() + j0, zero);
          group_end[static_cast<size_t>(g)] = static_cast<int32_t>(j);
        }
      } else {
        if (count > 0) std::memcpy(value.data(), w.data.data + 4 * k0, static_cast<size_t>(count) * 4);  // empty row: value may be null
        group_end[0] = static_cast<int32_t>(count);
      }
      // 2. One dot product per batch row over the stored entries, scaled once per group.
      for (int64_t b = 0; b < batch; ++b) {
        const float* xb = x + b * cols;
        float acc = 0.0f;
        int64_t j = 0;
        for (int64_t g = 0; g < groups; ++g) {
          float part = 0.0f;
          const int64_t stop = group_end[static_cast<size_t>(g)];
          for (; j < stop; ++j) part += value[static_cast<size_t>(j)] * xb[column[static_cast<size_t>(j)]];
          acc += quantized ? f16_to_f32(scales[r * groups + g]) * part : part;
        }
        y[b * rows + r] = acc;
      }
    }
  });
}

}  // namespace edgepack
