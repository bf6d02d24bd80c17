#include "core/sparsity.h"

#include <bit>
#include <cstring>

#include "core/half_convert.h"
#include "core/quant_codes.h"
#include "core/tensor.h"

namespace edgepack {

int sparse_encoding::index_bits() const {
  int bits = 0;
  while ((1 << bits) < m) ++bits;
  return bits;
}

int64_t sparse_encoding::kept_per_row(int64_t cols) const { return cols / m * n + kept_in_group(cols % m); }

std::string sparse_encoding_name(const sparse_encoding& s) {
  switch (s.layout) {
    case sparsity_layout::n_of_m: return std::to_string(s.n) + ":" + std::to_string(s.m);
    case sparsity_layout::bitmask: return "bitmask";
    case sparsity_layout::none: break;
  }
  return "dense";
}

std::string sparse_encoding_problem(const sparse_encoding& s) {
  if (s.layout == sparsity_layout::n_of_m && (s.m < 2 || s.m > 256 || s.n < 1 || s.n >= s.m))
    return "N:M sparsity " + std::to_string(s.n) + ":" + std::to_string(s.m) + " needs 1 <= N < M <= 256";
  return {};
}

uint64_t sparse_stored_values(const tensor& t) {
  const auto& s = t.sparsity;
  if (s.layout == sparsity_layout::bitmask) return s.nnz;
  if (s.layout == sparsity_layout::n_of_m) return static_cast<uint64_t>(t.rows()) * static_cast<uint64_t>(s.kept_per_row(t.cols()));
  return static_cast<uint64_t>(t.numel());
}

uint32_t read_bit_field(const std::byte* packed, int width, uint64_t index) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(packed);
  const uint64_t bit = index * static_cast<uint64_t>(width);
  const uint64_t byte = bit / 8;
  const unsigned shift = static_cast<unsigned>(bit % 8);
  uint32_t value = bytes[byte] >> shift;
  if (shift + static_cast<unsigned>(width) > 8) value |= static_cast<uint32_t>(bytes[byte + 1]) << (8 - shift);
  return value & ((1u << width) - 1);
}

void write_bit_field(std::byte* packed, int width, uint64_t index, uint32_t value) {
  auto* bytes = reinterpret_cast<uint8_t*>(packed);
  const uint64_t bit = index * static_cast<uint64_t>(width);
  const uint64_t byte = bit / 8;
  const unsigned shift = static_cast<unsigned>(bit % 8);
  value &= (1u << width) - 1;
  bytes[byte] |= static_cast<uint8_t>(value << shift);
  if (shift + static_cast<unsigned>(width) > 8) bytes[byte + 1] |= static_cast<uint8_t>(value >> (8 - shift));
}

namespace {

bool mask_bit(const std::byte* mask, uint64_t index) { return (static_cast<uint8_t>(mask[index / 8]) >> (index % 8)) & 1; }

uint32_t row_offset(const std::byte* offsets, int64_t r) {
  uint32_t v = 0;
  std::memcpy(&v, offsets + 4 * r, 4);  // little-endian host (checked in core/dtype)
  return v;
}

// Calls visit(c, k) for every stored value of view row r: column c, value index k (over the tensor).
template <class Visit>
void for_each_stored(const tensor& t, int64_t r, int64_t cols, Visit&& visit) {
  const sparse_encoding& s = t.sparsity;
  if (s.layout == sparsity_layout::n_of_m) {
    const int bits = s.index_bits();
    uint64_t k = static_cast<uint64_t>(r) * static_cast<uint64_t>(s.kept_per_row(cols));
    for (int64_t begin = 0; begin < cols; begin += s.m) {
      const int64_t kept = s.kept_in_group(std::min<int64_t>(s.m, cols - begin));
      for (int64_t j = 0; j < kept; ++j, ++k) visit(begin + read_bit_field(t.indices.data, bits, k), k);
    }
    return;
  }
  uint64_t k = row_offset(t.row_offsets.data, r);
  const uint64_t base = static_cast<uint64_t>(r) * static_cast<uint64_t>(cols);
  for (int64_t c = 0; c < cols; ++c)
    if (mask_bit(t.mask.data, base + static_cast<uint64_t>(c))) visit(c, k++);
}

}  // namespace

Status check_sparse_blobs(const tensor& t) {
  const sparse_encoding& s = t.sparsity;
  const int64_t rows = t.rows(), cols = t.cols();
  if (s.layout == sparsity_layout::n_of_m) {
    const int bits = s.index_bits();
    uint64_t k = 0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t begin = 0; begin < cols; begin += s.m) {
        const int64_t width = std::min<int64_t>(s.m, cols - begin);
        const int64_t kept = s.kept_in_group(width);
        int64_t previous = -1;
        for (int64_t j = 0; j < kept; ++j, ++k) {
          const int64_t index = read_bit_field(t.indices.data, bits, k);
          const std::string where = "indices of row " + std::to_string(r) + ", columns " + std::to_string(begin) + ".." +
                                    std::to_string(begin + width - 1) + ": ";
          if (index >= width)
            return bad_input(where + "index " + std::to_string(index) + " is outside the " + std::to_string(width) + "-column group");
          if (index <= previous)
            return bad_input(where + "index " + std::to_string(index) + " after " + std::to_string(previous) +
                             (index == previous ? " (duplicate position)" : " (not increasing)"));
          previous = index;
        }
      }
    const uint64_t used_bits = k * static_cast<uint64_t>(bits);
    if (used_bits % 8 != 0 && (static_cast<uint8_t>(t.indices.data[used_bits / 8]) >> (used_bits % 8)) != 0)
      return bad_input("non-zero padding bits after the last index");
    return Status::ok_status();
  }
  if (s.layout != sparsity_layout::bitmask) return Status::ok_status();
  const uint64_t bits = static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols);
  if (bits % 8 != 0 && (static_cast<uint8_t>(t.mask.data[bits / 8]) >> (bits % 8)) != 0)
    return bad_input("non-zero padding bits after the last mask bit");
  if (row_offset(t.row_offsets.data, 0) != 0) return bad_input("row_offsets[0] is " + std::to_string(row_offset(t.row_offsets.data, 0)) + ", not 0");
  uint64_t total = 0;
  for (int64_t r = 0; r < rows; ++r) {
    uint64_t count = 0;
    const uint64_t base = static_cast<uint64_t>(r) * static_cast<uint64_t>(cols);
    for (int64_t c = 0; c < cols; ++c) count += mask_bit(t.mask.data, base + static_cast<uint64_t>(c));
    total += count;
    const uint64_t next = row_offset(t.row_offsets.data, r + 1);
    if (next != total)
      return bad_input("row_offsets[" + std::to_string(r + 1) + "] is " + std::to_string(next) + " but the mask's rows 0.." +
                       std::to_string(r) + " hold " + std::to_string(total) + " values");
  }
  if (total != s.nnz) return bad_input("the mask holds " + std::to_string(total) + " values but nnz is " + std::to_string(s.nnz));
  return Status::ok_status();
}

void decode_sparse_rows(const tensor& t, int64_t row_begin, int64_t row_end, float* out) {
  const int64_t cols = t.cols();
  if (!t.is_quantized()) {
    const size_t elem = static_cast<size_t>(dtype_bits(t.type) / 8);
    for (int64_t r = row_begin; r < row_end; ++r) {
      float* row = out + (r - row_begin) * cols;
      std::fill(row, row + cols, 0.0f);
      for_each_stored(t, r, cols, [&](int64_t c, uint64_t k) { (void)decode_float_elements(t.type, t.data.data + k * elem, row + c, 1); });
    }
    return;
  }
  const quant_encoding& q = t.quant;
  const int64_t groups = q.groups_per_row(cols), group = q.effective_group(cols);
  const auto* scales = reinterpret_cast<const uint16_t*>(t.scales.data);
  for (int64_t r = row_begin; r < row_end; ++r) {
    float* row = out + (r - row_begin) * cols;
    // Positions not stored decode as the group's zero point would: scale * 0 (bit-exact, sign included).
    for (int64_t c = 0; c < cols; ++c) row[c] = f16_to_f32(scales[r * groups + c / group]) * 0.0f;
    for_each_stored(t, r, cols, [&](int64_t c, uint64_t k) {
      const uint64_t g = static_cast<uint64_t>(r * groups + c / group);
      const int zero = q.symmetric ? static_cast<int>(q.implicit_zero()) : read_code(t.zeros.data, q.bits, g);
      row[c] = f16_to_f32(scales[g]) * static_cast<float>(read_code(t.data.data, q.bits, k) - zero);
    });
  }
}

tensor unpack_sparse_tensor(const tensor& t) {
  if (!t.sparsity.is_sparse()) return t;
  const int64_t rows = t.rows(), cols = t.cols();
  tensor out = t;
  out.sparsity = {};
  out.indices = out.mask = out.row_offsets = {};
  const uint64_t count = static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols);
  if (!t.is_quantized()) {
    const size_t elem = static_cast<size_t>(dtype_bits(t.type) / 8);
    std::vector<std::byte> bytes(count * elem);
    for (int64_t r = 0; r < rows; ++r)
      for_each_stored(t, r, cols, [&](int64_t c, uint64_t k) {
        const uint64_t view = static_cast<uint64_t>(r * cols + c);
        const uint64_t at = t.quant.transposed ? static_cast<uint64_t>(c * rows + r) : view;
        std::memcpy(bytes.data() + at * elem, t.data.data + k * elem, elem);
      });
    out.data = make_owned_view(std::move(bytes));
    return out;
  }
  const quant_encoding& q = t.quant;
  const int64_t groups = q.groups_per_row(cols), group = q.effective_group(cols);
  std::vector<uint8_t> codes(count);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const uint64_t g = static_cast<uint64_t>(r * groups + c / group);
      codes[static_cast<size_t>(r * cols + c)] = q.symmetric ? static_cast<uint8_t>(q.implicit_zero()) : read_code(t.zeros.data, q.bits, g);
    }
    for_each_stored(t, r, cols, [&](int64_t c, uint64_t k) { codes[static_cast<size_t>(r * cols + c)] = read_code(t.data.data, q.bits, k); });
  }
  std::vector<std::byte> bytes(packed_code_bytes(q.bits, count));
  pack_codes(codes, q.bits, bytes);
  out.data = make_owned_view(std::move(bytes));
  return out;
}

}  // namespace edgepack
