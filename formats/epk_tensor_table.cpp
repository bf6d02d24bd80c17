#include "formats/epk_tensor_table.h"

#include "core/quant_codes.h"

namespace edgepack {

const char* epk_part_name(epk_part part) {
  switch (part) {
    case epk_part::data: return "data";
    case epk_part::scales: return "scales";
    case epk_part::zeros: return "zeros";
    case epk_part::indices: return "indices";
    case epk_part::mask: return "mask";
    case epk_part::row_offsets: return "row_offsets";
  }
  return "?";
}

// Bytes for `count` items of `bits` each, rounded up; nullopt when count * bits overflows.
static std::optional<uint64_t> packed_bytes(uint64_t count, uint64_t bits) {
  uint64_t total_bits = 0;
  if (__builtin_mul_overflow(count, bits, &total_bits)) return std::nullopt;
  return total_bits / 8 + (total_bits % 8 != 0 ? 1 : 0);
}

Expected<epk_part_sizes> epk_required_part_sizes(const tensor& t) {
  const auto count = checked_element_count(t.shape);
  bool dims_ok = count.has_value();
  // A zero dim lets checked_element_count accept any later dim; group arithmetic elsewhere
  // (cols + group - 1 in int64) needs every dim bounded too.
  for (int64_t dim : t.shape) dims_ok = dims_ok && dim <= (int64_t{1} << 62);
  if (!dims_ok) return bad_input("shape " + shape_to_string(t.shape) + " is negative or too large");
  const std::string what = std::string(dtype_name(t.type)) + " " + shape_to_string(t.shape);
  const quant_encoding& q = t.quant;
  const sparse_encoding& sp = t.sparsity;
  if (t.is_encoded() && !dtype_is_float(t.type))
    return bad_input(std::string(t.is_quantized() ? "quantized" : "sparse") + " tensor must decode to a float dtype, not " + std::string(dtype_name(t.type)));
  if (t.is_quantized()) {
    if (q.bits < 2 || q.bits > 8) return bad_input("quantized bits " + std::to_string(q.bits) + " outside 2..8");
    if (q.group_size < 0) return bad_input("negative group_size " + std::to_string(q.group_size));
  }
  if (t.is_encoded()) {
    if (const std::string problem = quant_layout_problem(t.shape.size(), q); !problem.empty()) return bad_input(problem);
  }
  // Matrix view (rows * cols == count, checked above, so neither overflows).
  const quant_matrix_view view = quant_view_of(t.shape, q);
  const auto cols = static_cast<uint64_t>(view.cols);
  const auto rows = static_cast<uint64_t>(view.rows);
  uint64_t values = *count;  // stored values
  epk_part_sizes sizes;
  if (sp.is_sparse()) {
    if (const std::string problem = sparse_encoding_problem(sp); !problem.empty()) return bad_input(problem);
    if (*count == 0) return bad_input("an empty tensor cannot have a sparse layout");
    if (sp.layout == sparsity_layout::n_of_m) {
      values = rows * static_cast<uint64_t>(sp.kept_per_row(static_cast<int64_t>(cols)));  // <= count
      sizes[3] = packed_bytes(values, static_cast<uint64_t>(sp.index_bits()));
    } else {
      if (sp.nnz > *count) return bad_input("nnz " + std::to_string(sp.nnz) + " exceeds the " + std::to_string(*count) + " elements");
      if (sp.nnz > UINT32_MAX) return bad_input("nnz " + std::to_string(sp.nnz) + " does not fit the 32-bit row offsets");
      values = sp.nnz;
      sizes[4] = packed_bytes(*count, 1);
      sizes[5] = (rows + 1) * 4;  // rows <= 2^62
    }
  }
  if (!t.is_quantized()) {
    sizes[0] = packed_bytes(values, static_cast<uint64_t>(dtype_bits(t.type)));
    if (!sizes[0]) return bad_input(what + " is too large");
    return sizes;
  }
  const uint64_t group = static_cast<uint64_t>(q.group_size);
  const uint64_t groups = group == 0 || group >= cols ? 1 : cols / group + (cols % group != 0 ? 1 : 0);
  const uint64_t scale_count = rows * groups;  // <= count: groups <= cols
  const uint64_t code_bits = static_cast<uint64_t>(packed_code_bits(q.bits));
  sizes[0] = packed_bytes(values, code_bits);
  sizes[1] = packed_bytes(scale_count, 16);
  if (!q.symmetric) sizes[2] = packed_bytes(scale_count, code_bits);
  if (!sizes[0] || !sizes[1] || (!q.symmetric && !sizes[2])) return bad_input(what + " is too large");
  return sizes;
}

static ojson blob_to_json(const epk_blob_ref& blob) {
  ojson out = ojson::object();
  out["offset"] = blob.offset;
  out["length"] = blob.length;
  out["crc32c"] = blob.crc32c;
  return out;
}

static Expected<epk_blob_ref> blob_from_json(const ojson& j, const std::string& path) {
  EP_RETURN_IF_ERROR(json_expect_object(j, path));
  epk_blob_ref blob;
  EP_ASSIGN_OR_RETURN(blob.offset, json_uint_field(j, "offset", path));
  EP_ASSIGN_OR_RETURN(blob.length, json_uint_field(j, "length", path));
  EP_ASSIGN_OR_RETURN(uint64_t crc, json_uint_field(j, "crc32c", path));
  if (crc > UINT32_MAX) return bad_input(path + ".crc32c: larger than 32 bits");
  blob.crc32c = static_cast<uint32_t>(crc);
  return blob;
}

ojson epk_tensor_entry_to_json(const epk_tensor_entry& entry) {
  const tensor& t = entry.layout;
  ojson encoding = ojson::object();
  if (t.is_quantized()) {
    encoding["kind"] = "quantized";
    encoding["bits"] = t.quant.bits;
    encoding["group_size"] = t.quant.group_size;
    encoding["symmetric"] = t.quant.symmetric;
    // Written only when not the default, so files of linear-only models keep their v1.0 bytes.
    if (t.quant.col_axis != -1) encoding["col_axis"] = t.quant.col_axis;
    if (t.quant.transposed) encoding["transposed"] = true;
    encoding["code_dtype"] = std::string(dtype_name(t.quant.code_dtype()));
    encoding["scale_dtype"] = "F16";
  } else {
    encoding["kind"] = "dense";
    if (t.is_sparse() && t.quant.col_axis != -1) encoding["col_axis"] = t.quant.col_axis;
    if (t.is_sparse() && t.quant.transposed) encoding["transposed"] = true;
  }
  if (t.is_sparse()) {  // absent for dense storage, so files without sparsity keep their bytes
    ojson sparsity = ojson::object();
    if (t.sparsity.layout == sparsity_layout::n_of_m) {
      sparsity["layout"] = "n_of_m";
      sparsity["n"] = t.sparsity.n;
      sparsity["m"] = t.sparsity.m;
    } else {
      sparsity["layout"] = "bitmask";
      sparsity["nnz"] = t.sparsity.nnz;
    }
    encoding["sparsity"] = std::move(sparsity);
  }
  ojson out = ojson::object();
  out["name"] = entry.name;
  out["dtype"] = std::string(dtype_name(t.type));
  out["shape"] = t.shape;
  out["encoding"] = std::move(encoding);
  for (size_t p = 0; p < epk_part_count; ++p) {
    if (entry.parts[p]) out[epk_part_name(static_cast<epk_part>(p))] = blob_to_json(*entry.parts[p]);
  }
  return out;
}

static Status sparsity_from_json(const ojson& j, const std::string& path, tensor& t) {
  const ojson* sp = json_optional_field(j, "sparsity");
  if (sp == nullptr) return Status::ok_status();
  const std::string where = json_path_join(path, "sparsity");
  EP_RETURN_IF_ERROR(json_expect_object(*sp, where));
  EP_ASSIGN_OR_RETURN(std::string layout, json_string_field(*sp, "layout", where));
  if (layout == "n_of_m") {
    EP_ASSIGN_OR_RETURN(int64_t n, json_int_field(*sp, "n", where));
    EP_ASSIGN_OR_RETURN(int64_t m, json_int_field(*sp, "m", where));
    if (n < 1 || m <= n || m > 256)
      return bad_input(where + ": N:M sparsity " + std::to_string(n) + ":" + std::to_string(m) + " needs 1 <= N < M <= 256");
    t.sparsity = {.layout = sparsity_layout::n_of_m, .n = static_cast<int>(n), .m = static_cast<int>(m), .nnz = 0};
  } else if (layout == "bitmask") {
    EP_ASSIGN_OR_RETURN(uint64_t nnz, json_uint_field(*sp, "nnz", where));
    t.sparsity = {.layout = sparsity_layout::bitmask, .n = 0, .m = 0, .nnz = nnz};
  } else {
    return bad_input(where + ".layout: unknown sparsity layout '" + layout + "' (expected n_of_m or bitmask)");
  }
  return Status::ok_status();
}

static Status view_from_json(const ojson& j, const std::string& path, tensor& t) {
  if (json_optional_field(j, "col_axis") != nullptr) {
    EP_ASSIGN_OR_RETURN(t.quant.col_axis, json_int_field(j, "col_axis", path));
  }
  if (json_optional_field(j, "transposed") != nullptr) {
    EP_ASSIGN_OR_RETURN(t.quant.transposed, json_bool_field(j, "transposed", path));
  }
  return Status::ok_status();
}

static Status encoding_from_json(const ojson& j, const std::string& path, tensor& t) {
  EP_RETURN_IF_ERROR(json_expect_object(j, path));
  EP_ASSIGN_OR_RETURN(std::string kind, json_string_field(j, "kind", path));
  EP_RETURN_IF_ERROR(sparsity_from_json(j, path, t));
  if (kind == "dense") {
    t.kind = encoding_kind::dense;
    if (t.is_sparse()) return view_from_json(j, path, t);  // a dense tensor's view matters only when sparse
    return Status::ok_status();
  }
  if (kind != "quantized") return bad_input(path + ".kind: unknown encoding '" + kind + "' (expected dense or quantized)");
  t.kind = encoding_kind::quantized;
  EP_ASSIGN_OR_RETURN(int64_t bits, json_int_field(j, "bits", path));
  if (bits < 2 || bits > 8) return bad_input(path + ".bits: " + std::to_string(bits) + " outside 2..8");
  t.quant.bits = static_cast<int>(bits);
  EP_ASSIGN_OR_RETURN(t.quant.group_size, json_int_field(j, "group_size", path));
  EP_ASSIGN_OR_RETURN(t.quant.symmetric, json_bool_field(j, "symmetric", path));
  EP_RETURN_IF_ERROR(view_from_json(j, path, t));
  // code_dtype and scale_dtype are derived facts written for device readers; they must agree.
  EP_ASSIGN_OR_RETURN(std::string code_dtype, json_string_field(j, "code_dtype", path));
  if (code_dtype != dtype_name(t.quant.code_dtype()))
    return bad_input(path + ".code_dtype: '" + code_dtype + "' disagrees with bits " + std::to_string(bits) +
                     " (expected " + std::string(dtype_name(t.quant.code_dtype())) + ")");
  EP_ASSIGN_OR_RETURN(std::string scale_dtype, json_string_field(j, "scale_dtype", path));
  if (scale_dtype != "F16") return bad_input(path + ".scale_dtype: '" + scale_dtype + "' unsupported (expected F16)");
  return Status::ok_status();
}

Expected<epk_tensor_entry> epk_tensor_entry_from_json(const ojson& j, const std::string& path) {
  EP_RETURN_IF_ERROR(json_expect_object(j, path));
  epk_tensor_entry entry;
  EP_ASSIGN_OR_RETURN(entry.name, json_string_field(j, "name", path));
  const std::string where = path + " (tensor '" + entry.name + "')";
  tensor& t = entry.layout;
  EP_ASSIGN_OR_RETURN(std::string type_name, json_string_field(j, "dtype", path));
  const auto type = dtype_from_name(type_name);
  if (!type) return bad_input(where + ": unknown dtype '" + type_name + "'");
  t.type = *type;
  EP_ASSIGN_OR_RETURN(const ojson* shape, json_field(j, "shape", path));
  EP_RETURN_IF_ERROR(json_expect_array(*shape, json_path_join(path, "shape")));
  for (size_t i = 0; i < shape->size(); ++i) {
    EP_ASSIGN_OR_RETURN(int64_t dim, json_to_int((*shape)[i], json_path_index(json_path_join(path, "shape"), i)));
    t.shape.push_back(dim);
  }
  EP_ASSIGN_OR_RETURN(const ojson* encoding, json_field(j, "encoding", path));
  EP_RETURN_IF_ERROR(encoding_from_json(*encoding, json_path_join(path, "encoding"), t));
  auto required = epk_required_part_sizes(t);
  if (!required.ok()) return bad_input(where + ": " + required.status().message());
  for (size_t p = 0; p < epk_part_count; ++p) {
    const char* part = epk_part_name(static_cast<epk_part>(p));
    const ojson* blob = json_optional_field(j, part);
    const auto& need = (*required)[p];
    if (need && blob == nullptr) return bad_input(where + ": " + part + " blob is missing");
    if (!need && blob != nullptr) return bad_input(where + ": has a " + part + " blob its encoding does not use");
    if (!need) continue;
    EP_ASSIGN_OR_RETURN(epk_blob_ref ref, blob_from_json(*blob, json_path_join(path, part)));
    if (ref.length != *need)
      return bad_input(where + ": " + part + " blob is " + std::to_string(ref.length) + " bytes, but " +
                       std::string(dtype_name(t.type)) + " " + shape_to_string(t.shape) +
                       (t.is_quantized() ? " as " + quant_encoding_name(t.quant) : std::string()) +
                       (t.is_sparse() ? " + " + sparse_encoding_name(t.sparsity) : std::string()) + " needs " +
                       std::to_string(*need));
    entry.parts[p] = ref;
  }
  return entry;
}

}  // namespace edgepack
