// size_sections: the per-tensor table, totals and by-kind sums of a report (docs/reports.md).
#include <array>
#include <cmath>
#include <map>

#include "core/dtype.h"
#include "core/tensor_summary.h"
#include "report/report.h"
#include "report/tensor_kind.h"

namespace edgepack::report {

namespace {

// ||a - b||_F / ||b||_F in double; null when the shapes differ, the reference is all zeros while the
// decoded weight is not, or either side does not decode to float (integer constants).
nlohmann::json relative_error(const std::vector<float>& after, const tensor& before_tensor) {
  auto before = to_float_vector(before_tensor);
  if (!before.ok() || before->size() != after.size()) return nullptr;
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < after.size(); ++i) {
    const double d = static_cast<double>(after[i]) - static_cast<double>((*before)[i]);
    diff += d * d;
    norm += static_cast<double>((*before)[i]) * (*before)[i];
  }
  if (norm == 0.0) return diff == 0.0 ? nlohmann::json(0.0) : nlohmann::json(nullptr);
  return std::sqrt(diff / norm);
}

// Dense size of the decoded element type: what an uncompressed copy of the tensor costs (f32 for
// quantized tensors). Used when the model before compression is unknown or lacks the tensor.
uint64_t dense_bytes(const tensor& t) { return dtype_bytes_for(t.type, static_cast<uint64_t>(t.numel())); }

double bits(uint64_t bytes, uint64_t count) { return count ? 8.0 * static_cast<double>(bytes) / static_cast<double>(count) : 0.0; }

}  // namespace

nlohmann::json size_sections(const model* before, const model& after) {
  nlohmann::json tensors = nlohmann::json::array();
  std::map<std::string, std::array<uint64_t, 3>> kind_sums;  // weights, bytes before, bytes after
  uint64_t weights = 0, bytes_before = 0, bytes_after = 0;
  bool all_before_known = before != nullptr;
  for (const auto& [name, t] : after.g.weights) {
    if (is_derived_constant(name)) continue;  // rotary tables, reshape shapes: not parameters
    const auto count = static_cast<uint64_t>(t.numel());
    const tensor* base = before ? before->g.find_weight(name) : nullptr;
    all_before_known = all_before_known && base != nullptr;
    const uint64_t before_bytes = base ? base->stored_bytes() : dense_bytes(t);
    const uint64_t after_bytes = t.stored_bytes();
    const std::string kind = tensor_kind(after.g, name);
    double zero_fraction = 0.0;
    nlohmann::json rel_error = nullptr;
    if (auto decoded = to_float_vector(t); decoded.ok()) {
      size_t zeros = 0;
      for (float v : *decoded) zeros += v == 0.0f;
      zero_fraction = decoded->empty() ? 0.0 : static_cast<double>(zeros) / static_cast<double>(decoded->size());
      if (base) rel_error = relative_error(*decoded, *base);
    }
    tensors.push_back({{"name", name},
                       {"kind", kind},
                       {"shape", t.shape},
                       {"encoding", tensor_encoding_text(t)},
                       {"sparsity", zero_fraction},
                       {"layout", sparse_encoding_name(t.sparsity)},
                       {"bytes_before", before_bytes},
                       {"bytes_after", after_bytes},
                       {"bits_per_weight", tensor_bits_per_weight(t)},
                       {"rel_error", rel_error}});
    auto& sums = kind_sums[kind];
    sums[0] += count;
    sums[1] += before_bytes;
    sums[2] += after_bytes;
    weights += count;
    bytes_before += before_bytes;
    bytes_after += after_bytes;
  }
  nlohmann::json by_kind = nlohmann::json::array();
  for (const auto& kind : tensor_kinds()) {
    const auto it = kind_sums.find(kind);
    if (it == kind_sums.end()) continue;
    by_kind.push_back({{"kind", kind}, {"weights", it->second[0]}, {"bytes_before", it->second[1]}, {"bytes_after", it->second[2]}});
  }
  nlohmann::json totals = {{"weights", weights},
                           {"bytes_before", bytes_before},
                           {"bytes_after", bytes_after},
                           {"bits_per_weight_before", bits(bytes_before, weights)},
                           {"bits_per_weight_after", bits(bytes_after, weights)},
                           {"compression_ratio", bytes_after ? static_cast<double>(bytes_before) / static_cast<double>(bytes_after) : 0.0},
                           // "base": every bytes_before is the tensor's stored size in the model before;
                           // "dense": some or all are the dense size of the decoded dtype (no base given).
                           {"bytes_before_basis", all_before_known ? "base" : "dense"}};
  return {{"totals", totals}, {"by_kind", by_kind}, {"tensors", tensors}};
}

}  // namespace edgepack::report
