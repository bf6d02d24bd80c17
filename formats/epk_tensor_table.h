// The .epk tensor table: one JSON entry per weight with dtype, shape, encoding and where each of
// its parts (data, scales, zeros) lies in the data section. Shared by the reader and the writer so
// both derive the required part sizes from one function.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "core/tensor.h"
#include "formats/json_fields.h"

namespace edgepack {

enum class epk_part : uint8_t { data, scales, zeros, indices, mask, row_offsets };
inline constexpr size_t epk_part_count = 6;
const char* epk_part_name(epk_part part);

struct epk_blob_ref {
  uint64_t offset = 0;  // relative to the data section start
  uint64_t length = 0;
  uint32_t crc32c = 0;
};

// Required byte size of each part, nullopt where the part does not exist (dense tensors have only
// data; symmetric encodings have no zeros).
using epk_part_sizes = std::array<std::optional<uint64_t>, epk_part_count>;

// Checks dtype, shape (overflow, negatives) and encoding parameters and returns the part sizes:
//   dense:     data = dtype_bytes_for(dtype, numel)
//   quantized: data = packed_code_bytes(bits, numel); scales = 2 * rows * groups (f16);
//              zeros = packed_code_bytes(bits, rows * groups) when asymmetric.
//   sparse (either kind): data holds only the stored values (V of them, see core/sparsity.h);
//              n_of_m: indices = ceil(V * ceil(log2 m) / 8);
//              bitmask: mask = ceil(rows * cols / 8), row_offsets = 4 * (rows + 1).
// Errors are bad_input without a prefix; callers add the tensor name.
Expected<epk_part_sizes> epk_required_part_sizes(const tensor& t);

struct epk_tensor_entry {
  std::string name;
  tensor layout;  // type, shape, kind, quant, sparsity; views are empty
  std::array<std::optional<epk_blob_ref>, epk_part_count> parts;
};

ojson epk_tensor_entry_to_json(const epk_tensor_entry& entry);
// Parses one entry and checks that the parts present are exactly the required ones, each with
// the required length. Offsets are checked later against the data section.
Expected<epk_tensor_entry> epk_tensor_entry_from_json(const ojson& j, const std::string& path);

}  // namespace edgepack
