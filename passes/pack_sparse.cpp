#include "passes/pack_sparse.h"

#include <cstring>

#include "core/quant_codes.h"
#include "passes/weight_selection.h"

namespace edgepack {
namespace {

// Reads view element (r, c) of a dense float or quantized tensor: is it a zero, and its stored form.
struct view_reader {
  const tensor& t;
  int64_t rows = 0, cols = 0, groups = 1, group = 1;
  size_t elem = 0;  // dense: bytes per element

  explicit view_reader(const tensor& w) : t(w), rows(w.rows()), cols(w.cols()) {
    if (t.is_quantized()) {
      groups = t.quant.groups_per_row(cols);
      group = t.quant.effective_group(cols);
    } else {
      elem = static_cast<size_t>(dtype_bits(t.type) / 8);
    }
  }
  uint64_t dense_index(int64_t r, int64_t c) const { return static_cast<uint64_t>(t.quant.transposed ? c * rows + r : r * cols + c); }
  int zero_point(int64_t r, int64_t c) const {
    if (t.quant.symmetric) return static_cast<int>(t.quant.implicit_zero());
    return read_code(t.zeros.data, t.quant.bits, static_cast<uint64_t>(r * groups + c / group));
  }
  uint8_t code(int64_t r, int64_t c) const { return read_code(t.data.data, t.quant.bits, static_cast<uint64_t>(r * cols + c)); }
  bool is_zero(int64_t r, int64_t c) const {
    if (t.is_quantized()) return code(r, c) == zero_point(r, c);
    const std::byte* p = t.data.data + dense_index(r, c) * elem;
    for (size_t i = 0; i < elem; ++i)
      if (p[i] != std::byte{0}) return false;
    return true;
  }
};

Status check_packable(const tensor& t) {
  if (t.is_sparse()) return bad_input("is already sparse (" + sparse_encoding_name(t.sparsity) + ")");
  if (!t.is_quantized() && (!dtype_is_float(t.type) || dtype_bits(t.type) % 8 != 0))
    return bad_input("has dtype " + std::string(dtype_name(t.type)) + "; only float or quantized weights can be packed");
  if (t.numel() == 0 || t.shape.empty()) return bad_input("is empty or a scalar; nothing to pack");
  if (const std::string problem = quant_layout_problem(t.shape.size(), t.quant); !problem.empty()) return bad_input(problem);
  return Status::ok_status();
}

// The stored columns of every row (ascending), or an error naming the first group over its limit.
Expected<std::vector<std::vector<int64_t>>> stored_columns(const view_reader& v, const sparse_encoding& s) {
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(v.rows));
  for (int64_t r = 0; r < v.rows; ++r) {
    auto& row = out[static_cast<size_t>(r)];
    if (s.layout == sparsity_layout::bitmask) {
      for (int64_t c = 0; c < v.cols; ++c)
        if (!v.is_zero(r, c)) row.push_back(c);
      continue;
    }
    for (int64_t begin = 0; begin < v.cols; begin += s.m) {
      const int64_t width = std::min<int64_t>(s.m, v.cols - begin);
      const int64_t kept = s.kept_in_group(width);
      std::vector<bool> use(static_cast<size_t>(width), false);
      int64_t count = 0;
      for (int64_t j = 0; j < width; ++j)
        if (!v.is_zero(r, begin + j)) use[static_cast<size_t>(j)] = true, ++count;
      if (count > kept)
        return bad_input("does not satisfy " + sparse_encoding_name(s) + ": row " + std::to_string(r) + ", columns " + std::to_string(begin) +
                         ".." + std::to_string(begin + width - 1) + " hold " + std::to_string(count) + " non-zeros (at most " +
                         std::to_string(kept) + ")");
      // Pad with explicit zeros at the lowest unused positions: every group stores exactly `kept`.
      for (int64_t j = 0; j < width && count < kept; ++j)
        if (!use[static_cast<size_t>(j)]) use[static_cast<size_t>(j)] = true, ++count;
      for (int64_t j = 0; j < width; ++j)
        if (use[static_cast<size_t>(j)]) row.push_back(begin + j);
    }
  }
  return out;
}

sparse_encoding encoding_of(const sparsity_pattern& p) {
  if (p.kind == sparsity_kind::n_of_m)
    return {.layout = sparsity_layout::n_of_m, .n = static_cast<int>(p.n), .m = static_cast<int>(p.m), .nnz = 0};
  return {.layout = sparsity_layout::bitmask, .n = 0, .m = 0, .nnz = 0};
}

uint64_t value_bits(const tensor& t) { return static_cast<uint64_t>(t.is_quantized() ? packed_code_bits(t.quant.bits) : dtype_bits(t.type)); }

uint64_t bytes_for(const tensor& t, const sparse_encoding& s, uint64_t stored) {
  const uint64_t rows = static_cast<uint64_t>(t.rows()), count = static_cast<uint64_t>(t.numel());
  uint64_t bytes = (stored * value_bits(t) + 7) / 8 + t.scales.size + t.zeros.size;
  if (s.layout == sparsity_layout::n_of_m) return bytes + (stored * static_cast<uint64_t>(s.index_bits()) + 7) / 8;
  return bytes + (count + 7) / 8 + 4 * (rows + 1);
}

}  // namespace

std::optional<uint64_t> packed_sparse_bytes(const tensor& t, const sparsity_pattern& pattern) {
  if (!check_packable(t).ok() || !validate_sparsity_pattern(pattern).ok()) return std::nullopt;
  const view_reader v(t);
  const sparse_encoding s = encoding_of(pattern);
  auto columns = stored_columns(v, s);
  if (!columns.ok()) return std::nullopt;
  uint64_t stored = 0;
  for (const auto& row : *columns) stored += row.size();
  if (s.layout == sparsity_layout::bitmask && stored > UINT32_MAX) return std::nullopt;
  return bytes_for(t, s, stored);
}

Expected<tensor> pack_sparse_tensor(const tensor& t, const sparsity_pattern& pattern) {
  EP_RETURN_IF_ERROR(check_packable(t));
  EP_RETURN_IF_ERROR(validate_sparsity_pattern(pattern));
  if (pattern.kind == sparsity_kind::n_of_m && pattern.m > 256) return bad_input("N:M packing needs M <= 256");
  const view_reader v(t);
  sparse_encoding s = encoding_of(pattern);
  EP_ASSIGN_OR_RETURN(auto columns, stored_columns(v, s));
  uint64_t stored = 0;
  for (const auto& row : columns) stored += row.size();
  if (s.layout == sparsity_layout::bitmask) {
    if (stored > UINT32_MAX) return bad_input("has " + std::to_string(stored) + " non-zeros, more than a bitmask's 32-bit row offsets hold");
    s.nnz = stored;
  }
  tensor out = t;
  out.sparsity = s;
  // Values (or codes) of the stored positions, row-major view order.
  if (t.is_quantized()) {
    std::vector<uint8_t> codes;
    codes.reserve(static_cast<size_t>(stored));
    for (int64_t r = 0; r < v.rows; ++r)
      for (int64_t c : columns[static_cast<size_t>(r)]) codes.push_back(v.code(r, c));
    std::vector<std::byte> bytes(packed_code_bytes(t.quant.bits, codes.size()));
    pack_codes(codes, t.quant.bits, bytes);
    out.data = make_owned_view(std::move(bytes));
  } else {
    std::vector<std::byte> bytes(static_cast<size_t>(stored) * v.elem);
    size_t k = 0;
    for (int64_t r = 0; r < v.rows; ++r)
      for (int64_t c : columns[static_cast<size_t>(r)]) std::memcpy(bytes.data() + v.elem * k++, t.data.data + v.dense_index(r, c) * v.elem, v.elem);
    out.data = make_owned_view(std::move(bytes));
  }
  if (s.layout == sparsity_layout::n_of_m) {
    const int bits = s.index_bits();
    std::vector<std::byte> indices((stored * static_cast<uint64_t>(bits) + 7) / 8);
    uint64_t k = 0;
    for (const auto& row : columns)
      for (int64_t c : row) write_bit_field(indices.data(), bits, k++, static_cast<uint32_t>(c % s.m));
    out.indices = make_owned_view(std::move(indices));
  } else {
    const uint64_t count = static_cast<uint64_t>(v.rows) * static_cast<uint64_t>(v.cols);
    std::vector<std::byte> mask((count + 7) / 8);
    std::vector<std::byte> offsets(4 * (static_cast<size_t>(v.rows) + 1));
    uint32_t running = 0;
    for (int64_t r = 0; r < v.rows; ++r) {
      std::memcpy(offsets.data() + 4 * r, &running, 4);
      for (int64_t c : columns[static_cast<size_t>(r)]) write_bit_field(mask.data(), 1, static_cast<uint64_t>(r * v.cols + c), 1);
      running += static_cast<uint32_t>(columns[static_cast<size_t>(r)].size());
    }
    std::memcpy(offsets.data() + 4 * v.rows, &running, 4);
    out.mask = make_owned_view(std::move(mask));
    out.row_offsets = make_owned_view(std::move(offsets));
  }
  return out;
}

Expected<pass_result> pack_sparse(const model& in, const pack_sparse_options& options) {
  if (options.pattern) EP_RETURN_IF_ERROR(validate_sparsity_pattern(*options.pattern));
  pass_result result{in, false, nlohmann::json::object()};
  // Views dense weights are read in (the readers' matrix view, as quantization uses).
  std::map<std::string, weight_view> views;
  weight_selection_options selection;
  selection.min_elements = 0;
  if (auto selected = select_weights(in.g, selection); selected.ok())
    for (const auto& w : *selected) views[w.name] = w.view;
  nlohmann::json tensors = nlohmann::json::array();
  uint64_t before_total = 0, after_total = 0;
  int packed = 0;
  for (auto& [name, weight] : result.out.g.weights) {
    before_total += weight.stored_bytes();
    tensor candidate = weight;
    if (!candidate.is_quantized()) {
      candidate.quant = quant_encoding{};
      if (auto it = views.find(name); it != views.end()) {
        candidate.quant.col_axis = it->second.col_axis;
        candidate.quant.transposed = it->second.transposed;
      }
    }
    if (candidate.numel() < options.min_elements || !check_packable(candidate).ok()) {
      after_total += weight.stored_bytes();
      continue;
    }
    std::vector<sparsity_pattern> tries;
    if (options.pattern) {
      tries.push_back(*options.pattern);
    } else {
      if (options.allow_n_of_m) tries = options.candidates;
      if (options.allow_bitmask) tries.push_back(sparsity_pattern::unstructured(0));
    }
    std::optional<sparsity_pattern> best;
    uint64_t best_bytes = weight.stored_bytes();
    for (const auto& p : tries) {
      const auto bytes = packed_sparse_bytes(candidate, p);
      // An explicit N:M pattern packs whenever it is satisfied (a kernel may want it even at equal size).
      const bool forced = options.pattern && p.kind == sparsity_kind::n_of_m;
      if (bytes && (*bytes < best_bytes || (forced && !best))) best = p, best_bytes = *bytes;
    }
    if (!best) {
      after_total += weight.stored_bytes();
      continue;
    }
    auto out = pack_sparse_tensor(candidate, *best);
    if (!out.ok()) return out.status().with_context("tensor '" + name + "'");
    nlohmann::json entry = {{"name", name}, {"layout", sparse_encoding_name(out->sparsity)}, {"bytes_before", weight.stored_bytes()},
                            {"bytes_after", out->stored_bytes()}};
    tensors.push_back(std::move(entry));
    weight = std::move(*out);
    after_total += weight.stored_bytes();
    ++packed;
  }
  result.changed = packed > 0;
  result.stats = {{"packed_tensors", packed}, {"bytes_before", before_total}, {"bytes_after", after_total}, {"tensors", std::move(tensors)}};
  return result;
}

}  // namespace edgepack
