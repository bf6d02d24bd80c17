// safetensors writer. Deterministic bytes for the same tensors and metadata: the header JSON
// comes from nlohmann's std::map-backed object (keys sorted bytewise), tensor data follows in
// the same name order with no gaps, and the header is padded with spaces to a multiple of 8 so
// the data section starts 8-byte aligned (as Hugging Face's writer does).
#include <array>

#include "core/atomic_file.h"
#include "formats/safetensors.h"
#include "formats/strict_json.h"

namespace edgepack {
namespace {

using nlohmann::json;

// Checks one tensor and returns its byte size in the file.
Expected<uint64_t> checked_tensor_bytes(const std::string& path, const std::string& name, const tensor& t) {
  const std::string where = path + ": tensor '" + name + "': ";
  if (name.empty()) return bad_input(path + ": empty tensor name");
  if (name == "__metadata__") return bad_input(where + "name is reserved for the metadata block");
  if (t.is_quantized()) return bad_input(where + "is quantized; safetensors holds dense tensors only");
  if (dtype_bits(t.type) % 8 != 0)
    return bad_input(where + "sub-byte dtype " + std::string(dtype_name(t.type)) + " cannot be stored in safetensors");
  const auto count = checked_element_count(t.shape);
  if (!count) return bad_input(where + "invalid shape " + shape_to_string(t.shape));
  const uint64_t bytes = dtype_bytes_for(t.type, *count);
  if (t.data.size != bytes || (bytes > 0 && t.data.data == nullptr))
    return bad_input(where + "holds " + std::to_string(t.data.size) + " bytes, expected " + std::to_string(bytes) + " for " +
                     std::string(dtype_name(t.type)) + " " + shape_to_string(t.shape));
  return bytes;
}

Expected<std::string> build_header(const std::string& path, const std::map<std::string, tensor>& tensors,
                                   const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    EP_ASSIGN_OR_RETURN(uint64_t bytes, checked_tensor_bytes(path, name, t));
    header[name] = {{"dtype", dtype_name(t.type)}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();  // strict UTF-8: a name that is not valid UTF-8 throws type_error
  } catch (const json::exception& e) {
    return bad_input(path + ": cannot encode the safetensors header (tensor names and metadata must be UTF-8): " + e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

}  // namespace

Status write_safetensors(const std::string& path, const std::map<std::string, tensor>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  EP_ASSIGN_OR_RETURN(std::string header, build_header(path, tensors, metadata));
  std::array<std::byte, 8> length{};
  for (size_t i = 0; i < 8; ++i) length[i] = static_cast<std::byte>((uint64_t{header.size()} >> (8 * i)) & 0xff);

  EP_ASSIGN_OR_RETURN(atomic_file_writer writer, atomic_file_writer::create(path));
  EP_RETURN_IF_ERROR(writer.write(length));
  EP_RETURN_IF_ERROR(writer.write(std::as_bytes(std::span<const char>(header))));
  for (const auto& [name, t] : tensors) EP_RETURN_IF_ERROR(writer.write({t.data.data, t.data.size}));
  return writer.commit();
}

}  // namespace edgepack
