#include "formats/llama2c.h"

#include <array>
#include <bit>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/sha256.h"

namespace edgepack {
namespace {

// Tensors view the file's floats in place, which is only right on a little-endian host.
static_assert(std::endian::native == std::endian::little, "llama2.c reader views little-endian floats in place");

struct header {
  std::array<int64_t, 7> fields{};  // in file order
  int64_t dim() const { return fields[0]; }
  int64_t hidden() const { return fields[1]; }
  int64_t layers() const { return fields[2]; }
  int64_t heads() const { return fields[3]; }
  int64_t kv_heads() const { return fields[4]; }
  int64_t vocab() const { return fields[5] < 0 ? -fields[5] : fields[5]; }
  bool tied() const { return fields[5] > 0; }
  int64_t seq_len() const { return fields[6]; }
  int64_t head_size() const { return dim() / heads(); }
  int64_t kv_dim() const { return kv_heads() * head_size(); }
};

constexpr std::array<std::string_view, 7> field_names = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};

int32_t read_i32_le(const std::byte* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint32_t>(p[i]);
  return static_cast<int32_t>(v);
}

std::string header_text(const header& h) {
  std::string out;
  for (size_t i = 0; i < field_names.size(); ++i) {
    if (i) out += ", ";
    out += std::string(field_names[i]) + "=" + std::to_string(h.fields[i]);
  }
  return out;
}

Expected<header> parse_header(std::span<const std::byte> bytes) {
  if (bytes.size() < static_cast<size_t>(llama2c_header_bytes))
    return bad_input("file is " + std::to_string(bytes.size()) + " bytes, shorter than the " + std::to_string(llama2c_header_bytes) +
                     "-byte llama2.c header");
  header h;
  for (size_t i = 0; i < h.fields.size(); ++i) h.fields[i] = read_i32_le(bytes.data() + 4 * i);
  for (size_t i = 0; i < h.fields.size(); ++i) {
    const bool is_vocab = i == 5;  // its sign only says whether the classifier is tied
    const int64_t value = is_vocab && h.fields[i] < 0 ? -h.fields[i] : h.fields[i];
    if (value <= 0)
      return bad_input("header field " + std::string(field_names[i]) + " = " + std::to_string(h.fields[i]) +
                       (is_vocab ? " must be non-zero" : " must be positive") + " (" + header_text(h) + ")");
    if (value > llama2c_max_dim)
      return bad_input("header field " + std::string(field_names[i]) + " = " + std::to_string(h.fields[i]) + " exceeds the cap of " +
                       std::to_string(llama2c_max_dim) + " (" + header_text(h) + ")");
  }
  if (h.dim() % h.heads() != 0)
    return bad_input("dim " + std::to_string(h.dim()) + " is not divisible by n_heads " + std::to_string(h.heads()));
  if (h.heads() % h.kv_heads() != 0)
    return bad_input("n_heads " + std::to_string(h.heads()) + " is not divisible by n_kv_heads " + std::to_string(h.kv_heads()));
  if (h.head_size() % 2 != 0)
    return bad_input("head size dim/n_heads = " + std::to_string(h.head_size()) + " is odd; rotary embedding needs pairs");
  return h;
}

// One kind of array in file order: `count` consecutive arrays of `shape` (count = n_layers for the
// per-layer stacks). Kept per kind, not per layer, so a hostile n_layers costs nothing before the
// size check. `suffix` is the HF name (after "model.layers.N." for stacks), empty for skipped arrays.
struct array_kind {
  std::string legacy;  // llama2.c's name, for messages
  std::string suffix;
  std::vector<int64_t> shape;
  int64_t count = 1;
  bool per_layer = false;

  std::string name(int64_t index) const { return per_layer ? "model.layers." + std::to_string(index) + "." + suffix : suffix; }
  std::string label(int64_t index) const {
    const std::string legacy_name = per_layer ? legacy + "[" + std::to_string(index) + "]" : legacy;
    return (suffix.empty() ? legacy_name : "'" + name(index) + "' (llama2.c " + legacy_name + ")") + " " + shape_to_string(shape);
  }
};

std::vector<array_kind> file_arrays(const header& h) {
  const int64_t d = h.dim(), hid = h.hidden(), kv = h.kv_dim(), n = h.layers();
  std::vector<array_kind> out;
  auto stack = [&](std::string legacy, std::string suffix, std::vector<int64_t> shape) {
    out.push_back({std::move(legacy), std::move(suffix), std::move(shape), n, true});
  };
  out.push_back({"token_embedding_table", "model.embed_tokens.weight", {h.vocab(), d}});
  stack("rms_att_weight", "input_layernorm.weight", {d});
  stack("wq", "self_attn.q_proj.weight", {d, d});
  stack("wk", "self_attn.k_proj.weight", {kv, d});
  stack("wv", "self_attn.v_proj.weight", {kv, d});
  stack("wo", "self_attn.o_proj.weight", {d, d});
  stack("rms_ffn_weight", "post_attention_layernorm.weight", {d});
  stack("w1", "mlp.gate_proj.weight", {hid, d});
  stack("w2", "mlp.down_proj.weight", {d, hid});
  stack("w3", "mlp.up_proj.weight", {hid, d});
  out.push_back({"rms_final_weight", "model.norm.weight", {d}});
  out.push_back({"freq_cis_real", "", {h.seq_len(), h.head_size() / 2}});
  out.push_back({"freq_cis_imag", "", {h.seq_len(), h.head_size() / 2}});
  if (!h.tied()) out.push_back({"wcls", "lm_head.weight", {h.vocab(), d}});
  return out;
}

// Bytes of one f32 array of `shape`, or nullopt on overflow. Each dim is ≤ 2^20, but a product of
// three is already 2^60, so every step is checked.
std::optional<uint64_t> f32_bytes(const std::vector<int64_t>& shape) {
  uint64_t total = 4;
  for (int64_t dim : shape)
    if (__builtin_mul_overflow(total, static_cast<uint64_t>(dim), &total)) return std::nullopt;
  return total;
}

llm_config make_config(const header& h) {
  llm_config c;
  c.architecture = "llama";
  c.dim = h.dim();
  c.hidden_dim = h.hidden();
  c.layers = h.layers();
  c.heads = h.heads();
  c.kv_heads = h.kv_heads();
  c.head_dim = h.head_size();
  c.vocab_size = h.vocab();
  c.max_seq_len = h.seq_len();
  c.norm_eps = 1e-5;        // llama2.c's rmsnorm constant
  c.rope_theta = 10000.0;   // llama2.c's RoPE base
  c.rope_interleaved = true;  // llama2.c rotates (2i, 2i+1)
  c.tied_embeddings = h.tied();
  c.bos_id = 1;
  c.eos_id = 2;
  return c;
}

Expected<llama_checkpoint> parse(std::shared_ptr<const storage> file) {
  const std::span<const std::byte> bytes(file->data(), file->size());
  EP_ASSIGN_OR_RETURN(header h, parse_header(bytes));
  const std::vector<array_kind> kinds = file_arrays(h);

  // First the exact size the header implies, so a short file can name the array it cuts into.
  std::vector<uint64_t> starts, sizes;  // per kind: first byte, bytes of one array
  uint64_t total = llama2c_header_bytes;
  for (const auto& k : kinds) {
    const auto one = f32_bytes(k.shape);
    uint64_t all = 0;
    starts.push_back(total);
    sizes.push_back(one.value_or(0));
    if (!one || __builtin_mul_overflow(*one, static_cast<uint64_t>(k.count), &all) || __builtin_add_overflow(total, all, &total))
      return bad_input("header (" + header_text(h) + ") implies a file size that overflows 64 bits at " + k.label(0));
  }
  const uint64_t actual = bytes.size();
  if (actual < total) {
    size_t kind = 0;
    while (kind + 1 < kinds.size() && starts[kind + 1] <= actual) ++kind;
    const int64_t index = static_cast<int64_t>((actual - starts[kind]) / sizes[kind]);
    const uint64_t begin = starts[kind] + static_cast<uint64_t>(index) * sizes[kind];
    return bad_input("truncated: " + kinds[kind].label(index) + " needs bytes [" + std::to_string(begin) + ", " +
                     std::to_string(begin + sizes[kind]) + ") but the file ends at " + std::to_string(actual) + "; expected " +
                     std::to_string(total) + " bytes in all for header (" + header_text(h) + ")");
  }
  if (actual > total)
    return bad_input("file is " + std::to_string(actual) + " bytes but the header (" + header_text(h) + ") implies exactly " +
                     std::to_string(total) + " (" + std::to_string(actual - total) + " trailing bytes)");

  // The file holds every array, so the counts below are bounded by its size.
  llama_checkpoint out;
  out.config = make_config(h);
  for (size_t kind = 0; kind < kinds.size(); ++kind) {
    if (kinds[kind].suffix.empty()) continue;
    for (int64_t i = 0; i < kinds[kind].count; ++i) {
      tensor t;
      t.type = dtype::f32;
      t.shape = kinds[kind].shape;
      t.data = byte_view{file, bytes.data() + starts[kind] + static_cast<uint64_t>(i) * sizes[kind], static_cast<size_t>(sizes[kind])};
      out.weights.emplace(kinds[kind].name(i), std::move(t));
    }
  }
  return out;
}

Expected<llama_checkpoint> read_with_source(std::shared_ptr<const storage> file, const std::string& display_name) {
  auto result = parse(file);
  if (!result.ok()) return result.status().with_context(display_name);
  result->sources.push_back(
      source_file{display_name, sha256::hex(std::span<const std::byte>(file->data(), file->size())), static_cast<uint64_t>(file->size())});
  return result;
}

}  // namespace

Expected<llama_checkpoint> read_llama2c(const std::string& path) {
  EP_ASSIGN_OR_RETURN(std::shared_ptr<mapped_file> file, mapped_file::open(path));
  return read_with_source(std::move(file), path);
}

Expected<llama_checkpoint> read_llama2c_from_memory(std::shared_ptr<const storage> bytes, const std::string& display_name) {
  if (bytes == nullptr) return bad_input(display_name + ": no data");
  // Tensors are read as floats in place: keep them 4-byte aligned whatever the caller passed.
  if (reinterpret_cast<uintptr_t>(bytes->data()) % alignof(float) != 0) {
    std::vector<std::byte> copy(bytes->data(), bytes->data() + bytes->size());
    bytes = std::make_shared<owned_storage>(std::move(copy));
  }
  return read_with_source(std::move(bytes), display_name);
}

}  // namespace edgepack
