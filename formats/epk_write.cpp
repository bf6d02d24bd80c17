// .epk writer: validate everything, plan the layout, checksum blobs, then stream the file.
// Two passes over tensor bytes (CRC, then write) because the metadata that holds the CRCs comes
// before the data; this keeps memory flat for multi-GB models instead of buffering the file.
#include <vector>

#include "core/atomic_file.h"
#include "core/crc32c.h"
#include "formats/epk.h"
#include "formats/epk_layout.h"
#include "formats/epk_tensor_table.h"
#include "formats/model_json.h"

namespace edgepack {
namespace {

const byte_view& part_view(const tensor& t, epk_part part) {
  switch (part) {
    case epk_part::scales: return t.scales;
    case epk_part::zeros: return t.zeros;
    case epk_part::data: break;
  }
  return t.data;
}

struct planned_blob {
  const byte_view* view = nullptr;
  uint64_t offset = 0;  // relative to the data section
};

struct write_plan {
  std::vector<epk_tensor_entry> entries;
  std::vector<planned_blob> blobs;  // in file order
  uint64_t data_length = 0;
};

// A tensor whose bytes disagree with its own dtype/shape/encoding is a bug in whatever built it,
// hence internal errors; nothing has been written yet when they are returned.
Expected<write_plan> plan_layout(const graph& g) {
  write_plan plan;
  uint64_t end = 0;
  for (const auto& [name, t] : g.weights) {
    auto required = epk_required_part_sizes(t);
    if (!required.ok()) return internal_error("tensor '" + name + "': " + required.status().message());
    epk_tensor_entry entry;
    entry.name = name;
    entry.layout.type = t.type;
    entry.layout.shape = t.shape;
    entry.layout.kind = t.kind;
    entry.layout.quant = t.quant;
    for (size_t p = 0; p < epk_part_count; ++p) {
      const auto part = static_cast<epk_part>(p);
      const byte_view& view = part_view(t, part);
      const auto& need = (*required)[p];
      const std::string what = "tensor '" + name + "': " + epk_part_name(part);
      if (!need) {
        if (view.size != 0) return internal_error(what + " holds " + std::to_string(view.size) + " bytes its encoding does not use");
        continue;
      }
      if (view.size != *need)
        return internal_error(what + " holds " + std::to_string(view.size) + " bytes, but " + std::string(dtype_name(t.type)) +
                              " " + shape_to_string(t.shape) +
                              (t.is_quantized() ? " as " + quant_encoding_name(t.quant) : std::string()) + " needs " +
                              std::to_string(*need));
      if (view.size > 0 && view.data == nullptr) return internal_error(what + " has no bytes behind its view");
      const auto offset = epk_align_up(end);
      if (!offset) return internal_error(what + ": data section exceeds 2^64 bytes");
      epk_blob_ref ref;
      ref.offset = *offset;
      ref.length = view.size;
      ref.crc32c = crc32c(std::span(view.data, view.size));
      entry.parts[p] = ref;
      plan.blobs.push_back({&view, ref.offset});
      end = ref.offset + ref.length;
    }
    plan.entries.push_back(std::move(entry));
  }
  plan.data_length = end;
  return plan;
}

// Fixed key order, so identical models give identical bytes (no timestamps, no hash order).
ojson build_metadata(const model& m, const write_plan& plan, const epk_write_options& options) {
  ojson meta = ojson::object();
  meta["format_version"] = std::to_string(epk_major_version) + "." + std::to_string(epk_minor_version);
  meta["edgepack_version"] = EDGEPACK_VERSION;
  meta["source_format"] = m.format;
  meta["graph"] = graph_to_json(m.g);
  ojson tensors = ojson::array();
  for (const auto& entry : plan.entries) tensors.push_back(epk_tensor_entry_to_json(entry));
  meta["tensors"] = std::move(tensors);
  if (m.llm) meta["llm_config"] = llm_config_to_json(*m.llm);
  const vocabulary none;
  const bool has_vocab = !m.vocab.pieces.empty() || !m.vocab.scores.empty() || m.vocab.bos_id != none.bos_id ||
                         m.vocab.eos_id != none.eos_id;
  if (has_vocab) meta["vocabulary"] = vocabulary_to_json(m.vocab);
  meta["sources"] = sources_to_json(m.sources);
  meta["extra"] = ojson(options.extra_metadata);  // nlohmann::json keeps keys sorted
  return meta;
}

Status write_file(const std::string& path, const std::string& metadata, const write_plan& plan) {
  epk_header header;
  header.metadata_offset = epk_header_size;
  header.metadata_length = metadata.size();
  header.data_offset = *epk_align_up(epk_header_size + metadata.size());
  header.data_length = plan.data_length;
  header.metadata_crc32c = crc32c(std::as_bytes(std::span(metadata)));
  const auto header_bytes = encode_epk_header(header);

  EP_ASSIGN_OR_RETURN(atomic_file_writer out, atomic_file_writer::create(path));
  EP_RETURN_IF_ERROR(out.write(header_bytes));
  EP_RETURN_IF_ERROR(out.write(std::as_bytes(std::span(metadata))));
  EP_RETURN_IF_ERROR(out.write_zeros(header.data_offset - out.offset()));
  for (const planned_blob& blob : plan.blobs) {
    EP_RETURN_IF_ERROR(out.write_zeros(header.data_offset + blob.offset - out.offset()));
    EP_RETURN_IF_ERROR(out.write(std::span(blob.view->data, blob.view->size)));
  }
  if (out.offset() != header.data_offset + header.data_length)
    return internal_error(path + ": wrote " + std::to_string(out.offset()) + " bytes, planned " +
                          std::to_string(header.data_offset + header.data_length));
  return out.commit();
}

}  // namespace

Status write_epk(const std::string& path, const model& m, const epk_write_options& options) {
  if (!options.extra_metadata.is_object()) return bad_usage(path + ": extra metadata must be a JSON object");
  EP_RETURN_IF_ERROR(check_model_text(m).with_context(path));
  EP_RETURN_IF_ERROR(m.g.validate().with_context(path));
  auto plan = plan_layout(m.g);
  if (!plan.ok()) return plan.status().with_context(path);
  std::string metadata;
  try {
    metadata = build_metadata(m, *plan, options).dump(-1, ' ', false, ojson::error_handler_t::strict);
  } catch (const std::exception& e) {  // invalid UTF-8 in extra metadata, allocation failure
    return bad_input(path + ": cannot encode metadata: " + e.what());
  }
  // Readers refuse deeper JSON; only a deeply nested extra_metadata can get here.
  if (json_nesting_depth(metadata) > epk_max_json_depth)
    return bad_usage(path + ": extra metadata nests deeper than readers accept (" + std::to_string(epk_max_json_depth) +
                     " levels in all)");
  if (metadata.size() > epk_max_metadata_bytes)
    return bad_input(path + ": metadata is " + std::to_string(metadata.size()) + " bytes, over the " +
                     std::to_string(epk_max_metadata_bytes >> 20) + " MiB limit readers accept");
  return write_file(path, metadata, *plan);
}

}  // namespace edgepack
