// .epk writer: plan the layout from tensor shapes and encodings, write a placeholder header and
// metadata, stream every blob (produced on demand), then patch the metadata with the real CRCs
// and the header. Memory stays flat for multi-GB models: at most one tensor is held at a time.
#include <vector>

#include "core/atomic_file.h"
#include "core/crc32c.h"
#include "formats/epk.h"
#include "formats/epk_layout.h"
#include "formats/epk_tensor_table.h"
#include "formats/model_json.h"

namespace edgepack {
namespace {

// CRC placeholder: the widest value, so the final metadata is never longer than the placeholder.
constexpr uint32_t crc_placeholder = 0xFFFFFFFFu;

const byte_view& part_view(const tensor& t, epk_part part) {
  switch (part) {
    case epk_part::scales: return t.scales;
    case epk_part::zeros: return t.zeros;
    case epk_part::indices: return t.indices;
    case epk_part::mask: return t.mask;
    case epk_part::row_offsets: return t.row_offsets;
    case epk_part::data: break;
  }
  return t.data;
}

struct write_plan {
  std::vector<epk_tensor_entry> entries;  // name order
  uint64_t data_length = 0;
};

// Offsets follow from shapes and encodings alone. A tensor whose layout is invalid is a bug in
// whatever built it, hence internal errors; nothing has been written yet when they are returned.
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
    entry.layout.sparsity = t.sparsity;
    for (size_t p = 0; p < epk_part_count; ++p) {
      if (!(*required)[p]) continue;
      const auto offset = epk_align_up(end);
      if (!offset) return internal_error("tensor '" + name + "': data section exceeds 2^64 bytes");
      entry.parts[p] = epk_blob_ref{*offset, *(*required)[p], crc_placeholder};
      end = *offset + *(*required)[p];
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

Expected<std::string> dump_metadata(const model& m, const write_plan& plan, const epk_write_options& options, const std::string& path) {
  try {
    return build_metadata(m, plan, options).dump(-1, ' ', false, ojson::error_handler_t::strict);
  } catch (const std::exception& e) {  // invalid UTF-8 in extra metadata, allocation failure
    return bad_input(path + ": cannot encode metadata: " + e.what());
  }
}

// Produces one weight, checks it against its planned entry, writes its parts and records CRCs.
Status write_tensor(atomic_file_writer& out, uint64_t data_offset, epk_tensor_entry& entry, const tensor& layout,
                    const epk_tensor_producer& produce) {
  auto produced = produce(entry.name, layout);
  if (!produced.ok()) return produced.status().with_context("tensor '" + entry.name + "'");
  const tensor& t = *produced;
  if (t.type != layout.type || t.shape != layout.shape || t.kind != layout.kind || (t.is_encoded() && !(t.quant == layout.quant)) ||
      !(t.sparsity == layout.sparsity))
    return internal_error("tensor '" + entry.name + "': produced tensor does not match its planned layout");
  for (size_t p = 0; p < epk_part_count; ++p) {
    const byte_view& view = part_view(t, static_cast<epk_part>(p));
    const std::string what = "tensor '" + entry.name + "': " + epk_part_name(static_cast<epk_part>(p));
    if (!entry.parts[p]) {
      if (view.size != 0) return internal_error(what + " holds " + std::to_string(view.size) + " bytes its encoding does not use");
      continue;
    }
    epk_blob_ref& ref = *entry.parts[p];
    if (view.size != ref.length)
      return internal_error(what + " holds " + std::to_string(view.size) + " bytes, but " + std::string(dtype_name(t.type)) + " " +
                            shape_to_string(t.shape) + (t.is_quantized() ? " as " + quant_encoding_name(t.quant) : std::string()) +
                            " needs " + std::to_string(ref.length));
    if (view.size > 0 && view.data == nullptr) return internal_error(what + " has no bytes behind its view");
    if (p == 0 && t.is_sparse()) {  // a reader would refuse what we are about to write
      if (Status st = check_sparse_blobs(t); !st.ok()) return internal_error("tensor '" + entry.name + "': " + st.message());
    }
    ref.crc32c = crc32c(std::span(view.data, view.size));
    EP_RETURN_IF_ERROR(out.write_zeros(data_offset + ref.offset - out.offset()));
    EP_RETURN_IF_ERROR(out.write(std::span(view.data, view.size)));
    release_file_pages(view.owner, view.data, view.size);
  }
  return Status::ok_status();
}

}  // namespace

Status write_epk_streaming(const std::string& path, const model& m, const epk_write_options& options, const epk_tensor_producer& produce) {
  if (!options.extra_metadata.is_object()) return bad_usage(path + ": extra metadata must be a JSON object");
  EP_RETURN_IF_ERROR(check_model_text(m).with_context(path));
  EP_RETURN_IF_ERROR(m.g.validate().with_context(path));
  auto plan = plan_layout(m.g);
  if (!plan.ok()) return plan.status().with_context(path);
  EP_ASSIGN_OR_RETURN(const std::string placeholder, dump_metadata(m, *plan, options, path));
  // Readers refuse deeper JSON; only a deeply nested extra_metadata can get here.
  if (json_nesting_depth(placeholder) > epk_max_json_depth)
    return bad_usage(path + ": extra metadata nests deeper than readers accept (" + std::to_string(epk_max_json_depth) + " levels in all)");
  if (placeholder.size() > epk_max_metadata_bytes)
    return bad_input(path + ": metadata is " + std::to_string(placeholder.size()) + " bytes, over the " +
                     std::to_string(epk_max_metadata_bytes >> 20) + " MiB limit readers accept");
  uint64_t reserve = options.final_extra_metadata ? options.metadata_reserve_bytes + 1024 : 0;
  if (options.final_sources) reserve += 80 * m.sources.size();
  epk_header header;
  header.metadata_offset = epk_header_size;
  header.metadata_length = placeholder.size() + reserve;
  header.data_offset = *epk_align_up(epk_header_size + header.metadata_length);
  header.data_length = plan->data_length;

  EP_ASSIGN_OR_RETURN(atomic_file_writer out, atomic_file_writer::create(path));
  EP_RETURN_IF_ERROR(out.write_zeros(header.data_offset));  // header and metadata are patched at the end
  auto layouts = m.g.weights.begin();
  for (auto& entry : plan->entries) {
    EP_RETURN_IF_ERROR(write_tensor(out, header.data_offset, entry, (layouts++)->second, produce).with_context(path));
  }
  if (out.offset() != header.data_offset + header.data_length)
    return internal_error(path + ": wrote " + std::to_string(out.offset()) + " bytes, planned " + std::to_string(header.data_offset + header.data_length));
  epk_write_options final_options = options;
  if (options.final_extra_metadata) final_options.extra_metadata = options.final_extra_metadata();
  std::string metadata;
  if (options.final_sources) {
    model final_model = m;
    EP_ASSIGN_OR_RETURN(final_model.sources, options.final_sources());
    EP_ASSIGN_OR_RETURN(metadata, dump_metadata(final_model, *plan, final_options, path));
  } else {
    EP_ASSIGN_OR_RETURN(metadata, dump_metadata(m, *plan, final_options, path));
  }
  if (metadata.size() > header.metadata_length) return internal_error(path + ": final metadata outgrew the space reserved for it");
  metadata.append(header.metadata_length - metadata.size(), ' ');  // JSON allows trailing whitespace
  header.metadata_crc32c = crc32c(std::as_bytes(std::span(metadata)));
  EP_RETURN_IF_ERROR(out.write_at(header.metadata_offset, std::as_bytes(std::span(metadata))));
  EP_RETURN_IF_ERROR(out.write_at(0, encode_epk_header(header)));
  return out.commit();
}

Status write_epk(const std::string& path, const model& m, const epk_write_options& options) {
  return write_epk_streaming(path, m, options, [&m](const std::string& name, const tensor&) -> Expected<tensor> { return m.g.weights.at(name); });
}

}  // namespace edgepack
