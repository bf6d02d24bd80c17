#include "passes/distill_targets.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "core/sha256.h"
#include "formats/llama_graph.h"
#include "runtime_ref/llm_session.h"
#include "runtime_ref/metrics.h"

namespace edgepack {

std::string distill_hidden_name(int64_t layer) { return "teacher_hidden." + std::to_string(layer); }

shard_layout distill_layout(const distill_spec& spec) {
  shard_layout layout;
  layout.tensors.push_back({distill_token_ids, dtype::i64, {spec.seq}});
  if (spec.top_k == 0) {
    layout.tensors.push_back({distill_full_logprobs, dtype::f32, {spec.seq, spec.vocab_size}});
  } else {
    layout.tensors.push_back({distill_topk_logprobs, dtype::f32, {spec.seq, spec.top_k}});
    layout.tensors.push_back({distill_topk_indices, dtype::i32, {spec.seq, spec.top_k}});
  }
  for (int64_t layer : spec.hidden_layers) layout.tensors.push_back({distill_hidden_name(layer), spec.hidden_type, {spec.seq, spec.dim}});
  return layout;
}

Status check_distill_spec(const distill_spec& spec, const llm_config& teacher) {
  if (spec.top_k < 0 || spec.top_k > teacher.vocab_size)
    return bad_usage("--top-k " + std::to_string(spec.top_k) + " must be between 1 and the teacher's vocabulary of " +
                     std::to_string(teacher.vocab_size) + " (or 'full')");
  if (!std::isfinite(spec.temperature) || spec.temperature <= 0)
    return bad_usage("--temperature must be a positive finite number, got " + std::to_string(spec.temperature));
  for (size_t i = 0; i < spec.hidden_layers.size(); ++i) {
    const int64_t layer = spec.hidden_layers[i];
    if (layer < 0 || layer >= teacher.layers)
      return bad_usage("--hidden-layers: layer " + std::to_string(layer) + " is outside the teacher's blocks 0.." + std::to_string(teacher.layers - 1));
    if (i > 0 && layer <= spec.hidden_layers[i - 1]) return bad_usage("--hidden-layers must list distinct layers in ascending order");
  }
  if (spec.hidden_type != dtype::f32 && spec.hidden_type != dtype::f16)
    return bad_usage("--hidden-dtype must be f32 or f16, got " + std::string(dtype_name(spec.hidden_type)));
  return Status::ok_status();
}

void select_top_k(std::span<const double> log_probs, std::span<float> values, std::span<int32_t> indices) {
  std::vector<int32_t> order(log_probs.size());
  std::iota(order.begin(), order.end(), 0);
  const auto k = static_cast<std::ptrdiff_t>(values.size());
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
    return log_probs[static_cast<size_t>(a)] > log_probs[static_cast<size_t>(b)] ||
           (log_probs[static_cast<size_t>(a)] == log_probs[static_cast<size_t>(b)] && a < b);
  });
  for (std::ptrdiff_t i = 0; i < k; ++i) {
    indices[static_cast<size_t>(i)] = order[static_cast<size_t>(i)];
    values[static_cast<size_t>(i)] = static_cast<float>(log_probs[static_cast<size_t>(order[static_cast<size_t>(i)])]);
  }
}

std::string vocabulary_sha256(const vocabulary& vocab) {
  sha256 h;
  auto put_u64 = [&](uint64_t v) {
    std::array<std::byte, 8> b{};
    for (size_t i = 0; i < 8; ++i) b[i] = static_cast<std::byte>((v >> (8 * i)) & 0xff);
    h.update(b);
  };
  const std::string tag = "edgepack-vocabulary-v1";
  h.update(std::as_bytes(std::span<const char>(tag)));
  put_u64(vocab.pieces.size());
  for (size_t i = 0; i < vocab.pieces.size(); ++i) {
    put_u64(vocab.pieces[i].size());
    h.update(std::as_bytes(std::span<const char>(vocab.pieces[i])));
    uint32_t bits = 0;
    const float score = i < vocab.scores.size() ? vocab.scores[i] : 0.0f;
    std::memcpy(&bits, &score, sizeof bits);
    put_u64(bits);
  }
  put_u64(static_cast<uint64_t>(vocab.bos_id));
  put_u64(static_cast<uint64_t>(vocab.eos_id));
  const auto digest = h.finish();
  return to_hex(digest);
}

namespace {

// One window's tensors, in distill_layout order, as bytes.
struct sample_buffers {
  std::vector<int64_t> ids;
  std::vector<float> logprobs;
  std::vector<int32_t> indices;
  std::vector<std::vector<std::byte>> hidden;
};

Status fill_hidden(const tensor& value, const distill_spec& spec, std::vector<std::byte>& out, const std::string& name) {
  if (value.type != dtype::f32 || value.numel() != spec.seq * spec.dim)
    return internal_error("hidden state '" + name + "' is " + std::string(dtype_name(value.type)) + " " + shape_to_string(value.shape) +
                          ", expected f32 [" + std::to_string(spec.seq) + ", " + std::to_string(spec.dim) + "]");
  const float* src = value.data_as<float>();
  const auto n = static_cast<size_t>(value.numel());
  if (spec.hidden_type == dtype::f32) {
    out.resize(n * 4);
    std::memcpy(out.data(), src, n * 4);
  } else {
    out.resize(n * 2);
    for (size_t i = 0; i < n; ++i) {
      const uint16_t h = f32_to_f16(src[i]);
      std::memcpy(out.data() + 2 * i, &h, 2);
    }
  }
  return Status::ok_status();
}

}  // namespace

Expected<distill_targets_written> write_distill_targets(const model& teacher, const std::vector<std::vector<int64_t>>& windows,
                                                        const distill_target_options& options, const std::string& dir) {
  if (!teacher.llm) return bad_input("the teacher is not a decoder-only language model (no LLM config)");
  if (windows.empty()) return bad_input("no windows to compute distillation targets on");
  distill_spec spec = options.spec;
  spec.seq = static_cast<int64_t>(windows.front().size());
  spec.vocab_size = teacher.llm->vocab_size;
  spec.dim = teacher.llm->dim;
  EP_RETURN_IF_ERROR(check_distill_spec(spec, *teacher.llm));
  std::vector<std::string> extra_outputs;
  for (int64_t layer : spec.hidden_layers) extra_outputs.push_back(llama_block_output_name(layer));
  EP_ASSIGN_OR_RETURN(llm_session session, llm_session::create(teacher, extra_outputs));
  const shard_layout layout = distill_layout(spec);
  const auto total = static_cast<int64_t>(windows.size());
  EP_ASSIGN_OR_RETURN(shard_writer writer, shard_writer::create(dir, layout, options.shard_bytes, total, options.shard_metadata));

  const int64_t width = spec.top_k == 0 ? spec.vocab_size : spec.top_k;
  const auto seq = static_cast<size_t>(spec.seq), vocab = static_cast<size_t>(spec.vocab_size);
  sample_buffers s;
  s.logprobs.resize(seq * static_cast<size_t>(width));
  s.indices.resize(spec.top_k == 0 ? 0 : seq * static_cast<size_t>(width));
  s.hidden.resize(spec.hidden_layers.size());
  for (int64_t w = 0; w < total; ++w) {
    const auto& window = windows[static_cast<size_t>(w)];
    if (window.size() != seq) return internal_error("windows of different lengths");
    session.reset();
    tensor_map extras;
    EP_ASSIGN_OR_RETURN(std::vector<float> logits, session.forward(window, &extras));
    s.ids = window;
    for (size_t p = 0; p < seq; ++p) {
      const std::span<const float> row(logits.data() + p * vocab, vocab);
      for (float v : row)
        if (!std::isfinite(v)) return bad_input("the teacher's logits are not finite (window " + std::to_string(w) + ", position " + std::to_string(p) + ")");
      const std::vector<double> log_p = log_softmax(row, spec.temperature);
      const std::span<float> values(s.logprobs.data() + p * static_cast<size_t>(width), static_cast<size_t>(width));
      if (spec.top_k == 0) {
        for (size_t v = 0; v < vocab; ++v) values[v] = static_cast<float>(log_p[v]);
      } else {
        select_top_k(log_p, values, std::span<int32_t>(s.indices.data() + p * static_cast<size_t>(width), static_cast<size_t>(width)));
      }
    }
    for (size_t h = 0; h < spec.hidden_layers.size(); ++h) {
      const std::string name = llama_block_output_name(spec.hidden_layers[h]);
      EP_RETURN_IF_ERROR(fill_hidden(extras.at(name), spec, s.hidden[h], name));
    }
    std::vector<std::span<const std::byte>> parts;
    parts.push_back(std::as_bytes(std::span<const int64_t>(s.ids)));
    parts.push_back(std::as_bytes(std::span<const float>(s.logprobs)));
    if (spec.top_k != 0) parts.push_back(std::as_bytes(std::span<const int32_t>(s.indices)));
    for (const auto& h : s.hidden) parts.push_back(std::span<const std::byte>(h));
    EP_RETURN_IF_ERROR(writer.add_sample(parts));
    if (options.progress) options.progress(w + 1, total);
  }
  EP_RETURN_IF_ERROR(writer.finish());
  distill_targets_written out;
  out.spec = spec;
  out.shards = writer.shards();
  for (const auto& shard : out.shards) out.bytes += shard["bytes"].get<uint64_t>();
  return out;
}

}  // namespace edgepack
