// TensorProto decoding: dtype mapping, element count guards, raw/typed/external data.
#include "formats/onnx_tensor.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <vector>

namespace edgepack {

// ONNX stores raw_data and external data little-endian; we hand those bytes straight to tensors.
static_assert(std::endian::native == std::endian::little, "the ONNX reader assumes a little-endian host");

namespace fs = std::filesystem;

std::optional<dtype> dtype_from_onnx_id(int onnx_id) {
  if (onnx_id <= 0) return std::nullopt;
  // Sub-byte types are codes of quantized encodings in edgepack, not ONNX's packed int4 layout.
#define EDGEPACK_DTYPE(name, bits, st_name, id, kind) \
  if ((id) == onnx_id && (bits) % 8 == 0) return dtype::name;
#include "core/dtype.def"
#undef EDGEPACK_DTYPE
  return std::nullopt;
}

namespace {

// Element cap: far below where count * 8 bytes could overflow, far above any real tensor.
constexpr uint64_t max_elements = uint64_t{1} << 56;

std::string onnx_type_text(int id) {
  const std::string name = onnx::TensorProto_DataType_Name(id);
  return (name.empty() ? std::string("unknown") : name) + " (ONNX type " + std::to_string(id) + ")";
}

// Whole-string decimal integer; external-data offsets/lengths arrive as text.
std::optional<uint64_t> parse_u64(const std::string& text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// Copies a typed repeated field element by element into `Out` (narrowing as ONNX prescribes:
// int8/int16/float16 values sit in the low bits of int32_data).
template <class Out, class Field>
void narrow_into(const Field& field, std::byte* dst) {
  for (int i = 0; i < field.size(); ++i) {
    const Out v = static_cast<Out>(field.Get(i));
    std::memcpy(dst + static_cast<size_t>(i) * sizeof(Out), &v, sizeof(Out));
  }
}

// How many values the proto carries in typed fields, over all of them: used to notice data in a
// field that does not belong to the tensor's type.
int typed_value_count(const onnx::TensorProto& p) {
  return p.float_data_size() + p.int32_data_size() + p.int64_data_size() + p.double_data_size() + p.uint64_data_size() +
         p.string_data_size();
}

Expected<tensor> from_typed_fields(const onnx::TensorProto& p, dtype type, std::vector<int64_t> shape, uint64_t count,
                                   const std::string& what) {
  int have = 0;
  const char* field = "";
  switch (type) {
    case dtype::f32: have = p.float_data_size(), field = "float_data"; break;
    case dtype::f64: have = p.double_data_size(), field = "double_data"; break;
    case dtype::i64: have = p.int64_data_size(), field = "int64_data"; break;
    case dtype::u32:
    case dtype::u64: have = p.uint64_data_size(), field = "uint64_data"; break;
    default: have = p.int32_data_size(), field = "int32_data"; break;
  }
  if (typed_value_count(p) != have)
    return bad_input(what + ": values are stored in a typed field that does not match its data type " + std::string(dtype_name(type)) +
                     " (expected " + field + ")");
  if (static_cast<uint64_t>(have) != count)
    return bad_input(what + ": " + field + " holds " + std::to_string(have) + " values but dims " + shape_to_string(shape) +
                     " need " + std::to_string(count));
  tensor t = tensor::allocate(type, std::move(shape));
  auto* dst = const_cast<std::byte*>(t.data.data);
  switch (type) {
    case dtype::f32: narrow_into<float>(p.float_data(), dst); break;
    case dtype::f64: narrow_into<double>(p.double_data(), dst); break;
    case dtype::i64: narrow_into<int64_t>(p.int64_data(), dst); break;
    case dtype::u64: narrow_into<uint64_t>(p.uint64_data(), dst); break;
    case dtype::u32: narrow_into<uint32_t>(p.uint64_data(), dst); break;
    case dtype::i32: narrow_into<int32_t>(p.int32_data(), dst); break;
    case dtype::i16: narrow_into<int16_t>(p.int32_data(), dst); break;
    case dtype::u16:
    case dtype::f16:
    case dtype::bf16: narrow_into<uint16_t>(p.int32_data(), dst); break;  // 16-bit floats travel as their bit patterns
    case dtype::i8: narrow_into<int8_t>(p.int32_data(), dst); break;
    case dtype::u8: narrow_into<uint8_t>(p.int32_data(), dst); break;
    case dtype::boolean:
      for (int i = 0; i < p.int32_data_size(); ++i) dst[i] = std::byte{p.int32_data(i) != 0 ? uint8_t{1} : uint8_t{0}};
      break;
    default: return bad_input(what + ": data type " + std::string(dtype_name(type)) + " cannot be stored in typed fields");
  }
  return t;
}

// Resolves an external-data location strictly inside the model directory (DESIGN.md §4.4):
// relative, no `..`, and after resolving symlinks still under the directory.
Expected<std::string> confine_location(const std::string& location, const std::string& base_dir, const std::string& what) {
  if (location.empty()) return bad_input(what + ": external data has an empty 'location'");
  if (location.find('\0') != std::string::npos) return bad_input(what + ": external data location contains a NUL byte");
  const fs::path loc(location);
  if (loc.is_absolute() || loc.has_root_name() || loc.has_root_directory())
    return bad_input(what + ": external data location '" + location + "' is an absolute path; it must be relative to the model's directory");
  for (const auto& part : loc) {
    if (part == "..") return bad_input(what + ": external data location '" + location + "' contains '..'; it must stay inside the model's directory");
  }
  std::error_code ec;
  fs::path base = fs::weakly_canonical(fs::path(base_dir), ec);
  if (ec) return bad_input(what + ": cannot resolve the model directory '" + base_dir + "': " + ec.message());
  const fs::path target = fs::weakly_canonical(base / loc, ec);
  if (ec) return bad_input(what + ": cannot resolve external data location '" + location + "': " + ec.message());
  if (base.has_filename() == false && base.has_parent_path()) base = base.parent_path();  // drop a trailing separator
  const auto [b, t] = std::mismatch(base.begin(), base.end(), target.begin(), target.end());
  if (b != base.end() || t == target.end())
    return bad_input(what + ": external data location '" + location + "' resolves to '" + target.string() +
                     "', outside the model's directory (a symlink out?)");
  return target.string();
}

Expected<tensor> from_external(const onnx::TensorProto& p, dtype type, std::vector<int64_t> shape, uint64_t bytes,
                               const std::string& what, onnx_external_files& files) {
  if (files.base_dir.empty()) return bad_input(what + ": external data is not allowed when the model is read from memory");
  if (p.has_raw_data() || typed_value_count(p) != 0) return bad_input(what + ": has both external data and inline data");
  std::optional<std::string> location;
  std::optional<uint64_t> offset, length;
  for (const auto& kv : p.external_data()) {
    const std::string& key = kv.key();
    if (key == "location") {
      if (location) return bad_input(what + ": external data 'location' given twice");
      location = kv.value();
    } else if (key == "offset" || key == "length") {
      auto& slot = key == "offset" ? offset : length;
      if (slot) return bad_input(what + ": external data '" + key + "' given twice");
      slot = parse_u64(kv.value());
      if (!slot) return bad_input(what + ": external data '" + key + "' is not a non-negative integer: '" + kv.value() + "'");
    }  // "checksum" and unknown keys carry nothing we need
  }
  if (!location) return bad_input(what + ": external data without a 'location'");
  EP_ASSIGN_OR_RETURN(const std::string path, confine_location(*location, files.base_dir, what));
  auto& file = files.opened[path];
  if (!file) {
    auto opened = mapped_file::open(path);
    if (!opened.ok()) {
      files.opened.erase(path);
      return opened.status().with_context(what + ": external data");
    }
    file = std::move(opened).value();
  }
  const uint64_t size = file->size();
  const uint64_t begin = offset.value_or(0);
  if (begin > size)
    return bad_input(what + ": external data offset " + std::to_string(begin) + " is beyond the end of '" + *location + "' (" +
                     std::to_string(size) + " bytes)");
  const uint64_t len = length.value_or(size - begin);
  if (len > size - begin)
    return bad_input(what + ": external data range [" + std::to_string(begin) + ", +" + std::to_string(len) + ") is beyond the end of '" +
                     *location + "' (" + std::to_string(size) + " bytes)");
  if (len != bytes)
    return bad_input(what + ": external data length " + std::to_string(len) + " does not match dims " + shape_to_string(shape) + " of " +
                     std::string(dtype_name(type)) + " (" + std::to_string(bytes) + " bytes)");
  tensor t;
  t.type = type;
  t.shape = std::move(shape);
  const std::byte* at = file->data() + begin;
  const size_t align = static_cast<size_t>(std::min(8, dtype_bits(type) / 8));
  if (reinterpret_cast<uintptr_t>(at) % align == 0) {
    t.data = byte_view{file, at, static_cast<size_t>(len)};  // zero-copy: the view keeps the mapping alive
  } else {
    t.data = make_owned_view(std::vector<std::byte>(at, at + len));  // consumers read elements in place, so align
  }
  return t;
}

}  // namespace

Expected<tensor> decode_onnx_tensor(const onnx::TensorProto& p, const std::string& what, onnx_external_files& files) {
  const auto type = dtype_from_onnx_id(p.data_type());
  if (!type) return bad_input(what + ": data type " + onnx_type_text(p.data_type()) + " is not supported");
  if (p.has_segment()) return bad_input(what + ": segmented tensors are not supported");
  std::vector<int64_t> shape(p.dims().begin(), p.dims().end());
  for (int64_t d : shape) {
    if (d < 0) return bad_input(what + ": negative dimension in dims " + shape_to_string(shape));
  }
  const auto count = checked_element_count(shape);
  if (!count || *count > max_elements)
    return bad_input(what + ": dims " + shape_to_string(shape) + " have an element count that overflows");
  const uint64_t bytes = dtype_bytes_for(*type, *count);

  if (p.data_location() == onnx::TensorProto_DataLocation_EXTERNAL)
    return from_external(p, *type, std::move(shape), bytes, what, files);
  if (p.has_raw_data()) {
    if (typed_value_count(p) != 0) return bad_input(what + ": has both raw_data and typed data fields");
    const std::string& raw = p.raw_data();
    if (raw.size() != bytes)
      return bad_input(what + ": raw_data has " + std::to_string(raw.size()) + " bytes but dims " + shape_to_string(shape) + " of " +
                       std::string(dtype_name(*type)) + " need " + std::to_string(bytes));
    tensor t;
    t.type = *type;
    t.shape = std::move(shape);
    const auto* begin = reinterpret_cast<const std::byte*>(raw.data());
    t.data = make_owned_view(std::vector<std::byte>(begin, begin + raw.size()));
    return t;
  }
  return from_typed_fields(p, *type, std::move(shape), *count, what);
}

}  // namespace edgepack
