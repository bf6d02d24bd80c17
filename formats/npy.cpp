#include "formats/npy.h"

#include <array>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "core/atomic_file.h"

namespace edgepack {
namespace {

constexpr std::string_view magic = "\x93NUMPY";
constexpr size_t max_rank = 64;  // numpy's own limit is 64 dimensions

// The dtypes we exchange with numpy, by descr without the byte-order character.
struct descr_entry {
  std::string_view kind_size;  // "f4"
  dtype type;
};
constexpr std::array<descr_entry, 12> descr_table{{
    {"f4", dtype::f32}, {"f2", dtype::f16}, {"f8", dtype::f64}, {"i1", dtype::i8}, {"u1", dtype::u8}, {"b1", dtype::boolean},
    {"i2", dtype::i16}, {"u2", dtype::u16}, {"i4", dtype::i32}, {"u4", dtype::u32}, {"i8", dtype::i64}, {"u8", dtype::u64},
}};

Expected<dtype> dtype_from_descr(const std::string& descr) {
  if (descr.size() < 2) return bad_input("unsupported dtype descr '" + descr + "'");
  const char order = descr[0];
  if (order == '>') return bad_input("big-endian dtype descr '" + descr + "' is not supported (only little-endian)");
  for (const auto& entry : descr_table) {
    if (descr.substr(1) != entry.kind_size) continue;
    // '<' for multi-byte types; single bytes have no byte order and numpy writes '|' ('<' is accepted too).
    const bool single_byte = dtype_bits(entry.type) == 8;
    if (order == '<' || (order == '|' && single_byte)) return entry.type;
  }
  return bad_input("unsupported dtype descr '" + descr + "'");
}

std::string descr_for(dtype type) {
  for (const auto& entry : descr_table)
    if (entry.type == type) return (dtype_bits(type) == 8 ? "|" : "<") + std::string(entry.kind_size);
  return {};
}

// The header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" plus space padding
// and a newline. A strict recursive-descent parser over exactly this subset of Python literals:
// strings without escapes, True/False, and tuples of non-negative decimal integers.
class header_parser {
 public:
  explicit header_parser(std::string_view text) : text_(text) {}

  struct result {
    std::string descr;
    bool fortran_order = false;
    std::vector<int64_t> shape;
  };

  Expected<result> parse() {
    result out;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    skip_space();
    if (!consume('{')) return error("header must start with '{'");
    while (true) {
      skip_space();
      if (consume('}')) break;
      EP_ASSIGN_OR_RETURN(std::string key, parse_string());
      skip_space();
      if (!consume(':')) return error("expected ':' after key '" + key + "'");
      skip_space();
      if (key == "descr") {
        if (seen_descr) return error("duplicate key 'descr'");
        seen_descr = true;
        EP_ASSIGN_OR_RETURN(out.descr, parse_string());
      } else if (key == "fortran_order") {
        if (seen_order) return error("duplicate key 'fortran_order'");
        seen_order = true;
        EP_ASSIGN_OR_RETURN(out.fortran_order, parse_bool());
      } else if (key == "shape") {
        if (seen_shape) return error("duplicate key 'shape'");
        seen_shape = true;
        EP_ASSIGN_OR_RETURN(out.shape, parse_shape());
      } else {
        return error("unexpected key '" + key + "' (expected descr, fortran_order, shape)");
      }
      skip_space();
      if (consume(',')) continue;
      if (consume('}')) break;
      return error("expected ',' or '}' after the value of '" + key + "'");
    }
    skip_space();
    if (pos_ != text_.size()) return error("unexpected text after the closing '}'");
    if (!seen_descr || !seen_order || !seen_shape) return error("header must have the keys 'descr', 'fortran_order' and 'shape'");
    return out;
  }

 private:
  Status error(const std::string& what) const {
    return bad_input("malformed header at byte " + std::to_string(pos_) + ": " + what);
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t')) ++pos_;
  }
  bool consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool consume_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Expected<std::string> parse_string() {
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) return error("expected a quoted string");
    const char quote = text_[pos_++];
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      const char c = text_[pos_++];
      // Keys and descrs are short ASCII words; anything else is not a header numpy writes.
      if (c == '\\' || c < 0x20 || c > 0x7e) return error("unsupported character in string");
      if (out.size() >= 64) return error("string longer than 64 characters");
      out += c;
    }
    if (!consume(quote)) return error("unterminated string");
    return out;
  }

  Expected<bool> parse_bool() {
    if (consume_word("True")) return true;
    if (consume_word("False")) return false;
    return error("expected True or False");
  }

  Expected<int64_t> parse_int() {
    int64_t value = 0;
    const size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const int digit = text_[pos_++] - '0';
      if (value > (std::numeric_limits<int64_t>::max() - digit) / 10) return error("dimension too large");
      value = value * 10 + digit;
    }
    if (pos_ == start) return error("expected a non-negative integer dimension");
    return value;
  }

  // "()", "(5,)", "(2, 3)", "(2, 3,)". "(5)" is an int in Python, not a tuple: rejected.
  Expected<std::vector<int64_t>> parse_shape() {
    if (!consume('(')) return error("shape must be a tuple");
    std::vector<int64_t> dims;
    bool trailing_comma = false;
    while (true) {
      skip_space();
      if (consume(')')) break;
      if (dims.size() >= max_rank) return error("shape has more than " + std::to_string(max_rank) + " dimensions");
      EP_ASSIGN_OR_RETURN(int64_t dim, parse_int());
      dims.push_back(dim);
      skip_space();
      trailing_comma = consume(',');
      if (!trailing_comma) {
        skip_space();
        if (!consume(')')) return error("expected ',' or ')' in shape");
        break;
      }
    }
    if (dims.size() == 1 && !trailing_comma) return error("one-element shape needs a trailing comma, as in (5,)");
    return dims;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

struct npy_layout {
  dtype type = dtype::f32;
  std::vector<int64_t> shape;
  size_t data_offset = 0;
  size_t data_bytes = 0;
};

uint32_t read_le(std::span<const std::byte> bytes, size_t offset, size_t width) {
  uint32_t value = 0;
  for (size_t i = width; i-- > 0;) value = (value << 8) | static_cast<uint32_t>(bytes[offset + i]);
  return value;
}

// Validates everything; messages have no file name (the public functions add it).
Expected<npy_layout> parse_npy(std::span<const std::byte> bytes) {
  if (bytes.size() < 10) return bad_input("file is " + std::to_string(bytes.size()) + " bytes, too short for a .npy header");
  if (std::memcmp(bytes.data(), magic.data(), magic.size()) != 0) return bad_input("not a .npy file (bad magic)");
  const int major = static_cast<int>(bytes[6]);
  const int minor = static_cast<int>(bytes[7]);
  if ((major != 1 && major != 2) || minor != 0)
    return bad_input("unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor) + " (supported: 1.0, 2.0)");
  const size_t prefix = major == 1 ? 10 : 12;  // magic, version, then a u16 (1.0) or u32 (2.0) length
  if (bytes.size() < prefix) return bad_input("file too short for a version 2.0 header");
  const uint64_t header_len = read_le(bytes, 8, prefix - 8);
  if (header_len > npy_max_header_bytes)
    return bad_input("header length " + std::to_string(header_len) + " exceeds the cap of " + std::to_string(npy_max_header_bytes));
  if (header_len > bytes.size() - prefix)
    return bad_input("header length " + std::to_string(header_len) + " runs beyond the end of the file (" +
                     std::to_string(bytes.size()) + " bytes)");

  const std::string_view text(reinterpret_cast<const char*>(bytes.data()) + prefix, static_cast<size_t>(header_len));
  EP_ASSIGN_OR_RETURN(header_parser::result header, header_parser(text).parse());
  if (header.fortran_order) return bad_input("fortran_order True (column-major) arrays are not supported");
  npy_layout layout;
  EP_ASSIGN_OR_RETURN(layout.type, dtype_from_descr(header.descr));
  layout.shape = std::move(header.shape);
  layout.data_offset = prefix + static_cast<size_t>(header_len);

  const auto count = checked_element_count(layout.shape);
  const uint64_t element_bytes = static_cast<uint64_t>(dtype_bits(layout.type) / 8);
  if (!count || *count > std::numeric_limits<uint64_t>::max() / element_bytes)
    return bad_input("element count of shape " + shape_to_string(layout.shape) + " overflows");
  const uint64_t expected = *count * element_bytes;
  const uint64_t available = bytes.size() - layout.data_offset;
  if (expected != available)
    return bad_input("data is " + std::to_string(available) + " bytes, expected " + std::to_string(expected) + " for '" +
                     header.descr + "' " + shape_to_string(layout.shape));
  layout.data_bytes = static_cast<size_t>(expected);
  return layout;
}

tensor make_tensor(const npy_layout& layout, byte_view data) {
  tensor t;
  t.type = layout.type;
  t.shape = layout.shape;
  t.data = std::move(data);
  return t;
}

byte_view copy_bytes(const std::byte* data, size_t size) { return make_owned_view(std::vector<std::byte>(data, data + size)); }

std::string shape_literal(const std::vector<int64_t>& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) out += ",";
  return out + ")";
}

}  // namespace

Expected<tensor> read_npy_from_memory(std::span<const std::byte> bytes, const std::string& display_name) {
  auto layout = parse_npy(bytes);
  if (!layout.ok()) return layout.status().with_context(display_name);
  return make_tensor(*layout, copy_bytes(bytes.data() + layout->data_offset, layout->data_bytes));
}

Expected<tensor> read_npy(const std::string& path) {
  EP_ASSIGN_OR_RETURN(std::shared_ptr<mapped_file> file, mapped_file::open(path));
  const std::span<const std::byte> bytes(file->data(), file->size());
  auto layout = parse_npy(bytes);
  if (!layout.ok()) return layout.status().with_context(path);
  const std::byte* data = file->data() + layout->data_offset;
  // numpy pads headers to 64 bytes (16 in old versions), so the data is normally aligned and can
  // stay in the mapping; an odd header gets an aligned copy so data_as<T>() is always safe.
  const auto alignment = static_cast<uintptr_t>(dtype_bits(layout->type) / 8);
  if (reinterpret_cast<uintptr_t>(data) % alignment != 0) return make_tensor(*layout, copy_bytes(data, layout->data_bytes));
  return make_tensor(*layout, byte_view{file, data, layout->data_bytes});
}

Status write_npy(const std::string& path, const tensor& t) {
  if (t.is_quantized()) return bad_input(path + ": quantized tensors cannot be written as .npy (dequantize first)");
  const std::string descr = descr_for(t.type);
  if (descr.empty()) return bad_input(path + ": dtype " + std::string(dtype_name(t.type)) + " has no .npy equivalent");
  const auto count = checked_element_count(t.shape);
  if (!count || t.shape.size() > max_rank) return bad_input(path + ": invalid shape " + shape_to_string(t.shape));
  const uint64_t bytes = dtype_bytes_for(t.type, *count);
  if (t.data.size != bytes || (bytes > 0 && t.data.data == nullptr))
    return bad_input(path + ": tensor holds " + std::to_string(t.data.size) + " bytes, expected " + std::to_string(bytes));

  // Same dict text numpy writes, then spaces and '\n' so the data starts on a 64-byte boundary.
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape_literal(t.shape) + ", }";
  // With at most 64 dimensions of at most 19 digits the header stays far below version 1.0's
  // 65535-byte limit, so version 2.0 is never needed for writing.
  constexpr size_t prefix = 10;
  header.append(63 - (prefix + header.size()) % 64, ' ');
  header += '\n';
  std::vector<std::byte> head(prefix);
  std::memcpy(head.data(), magic.data(), magic.size());
  head[6] = std::byte{1};
  head[7] = std::byte{0};
  for (size_t i = 8; i < prefix; ++i) head[i] = static_cast<std::byte>((header.size() >> (8 * (i - 8))) & 0xff);

  EP_ASSIGN_OR_RETURN(atomic_file_writer writer, atomic_file_writer::create(path));
  EP_RETURN_IF_ERROR(writer.write(head));
  EP_RETURN_IF_ERROR(writer.write(std::as_bytes(std::span<const char>(header))));
  EP_RETURN_IF_ERROR(writer.write({t.data.data, t.data.size}));
  return writer.commit();
}

}  // namespace edgepack
