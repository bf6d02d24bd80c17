// ONNX writer (see the header for the mapping). Quantized weights are lowered here; graph rewrites
// for older opsets live in onnx_opset_upgrade.cpp.
#include "formats/onnx_writer.h"

#include <cstring>
#include <new>
#include <set>

#include "core/atomic_file.h"
#include "core/quant_codes.h"
#include "formats/onnx_opset_upgrade.h"
#include "formats/onnx_reader.h"
#include "onnx/onnx_pb.h"

namespace edgepack {
namespace {

constexpr int64_t dql_block_opset = 21;  // DequantizeLinear with block_size and (u)int4
constexpr int onnx_uint4 = 21;
constexpr int onnx_uint8 = 2;
constexpr int onnx_float16 = 10;
constexpr int onnx_float = 1;
constexpr int onnx_int64 = 7;

int64_t ir_version_for(int64_t opset) {
  if (opset >= 23) return 11;
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  if (opset >= 15) return 8;
  if (opset >= 12) return 7;
  if (opset == 11) return 6;
  if (opset == 10) return 5;
  return 4;  // IR 4 lets initializers stay out of the graph inputs; fine for opsets 7-9
}

void collect_names(const graph& g, std::set<std::string>& names) {
  for (const auto& [name, w] : g.weights) names.insert(name);
  for (const auto& v : g.inputs) names.insert(v.name);
  for (const auto& n : g.nodes) {
    names.insert(n.name);
    for (const auto& o : n.outputs) names.insert(o);
    for (const auto& [key, value] : n.attributes)
      if (const auto* body = std::get_if<std::shared_ptr<const graph>>(&value); body && *body) collect_names(**body, names);
  }
}

void collect_readers(const graph& g, std::map<std::string, std::set<const graph*>>& readers) {
  for (const auto& n : g.nodes) {
    for (const auto& in : n.inputs)
      if (!in.empty()) readers[in].insert(&g);
    for (const auto& [key, value] : n.attributes)
      if (const auto* body = std::get_if<std::shared_ptr<const graph>>(&value); body && *body) collect_readers(**body, readers);
  }
  for (const auto& o : g.outputs) readers[o.name].insert(&g);
}

class name_pool {
 public:
  explicit name_pool(const graph& g) { collect_names(g, names_); }
  // Weights that only one subgraph reads go back into that subgraph as its initializers (the reader
  // hoisted them), so ONNX Runtime sees them as that body's constants, exactly as in the source.
  std::map<const graph*, std::vector<std::string>> body_weights;
  const std::map<std::string, tensor>* top_weights = nullptr;
  std::string fresh(const std::string& base) {
    std::string name = base;
    for (int k = 1; names_.count(name); ++k) name = base + "_" + std::to_string(k);
    names_.insert(name);
    return name;
  }

 private:
  std::set<std::string> names_;
};

void set_value_info(onnx::ValueInfoProto* out, const value_info& v) {
  out->set_name(v.name);
  auto* tt = out->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(dtype_onnx_id(v.type));
  if (v.shape.empty()) return;  // the IR cannot tell a scalar from an unknown rank: leave the shape out
  auto* shape = tt->mutable_shape();
  for (const auto& d : v.shape) {
    auto* dim = shape->add_dim();
    if (d.value >= 0) dim->set_dim_value(d.value);
    else if (!d.symbol.empty()) dim->set_dim_param(d.symbol);
  }
}

void set_raw_tensor(onnx::TensorProto* t, const std::string& name, int type, const std::vector<int64_t>& dims, const void* data, size_t bytes) {
  t->set_name(name);
  t->set_data_type(type);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(data, bytes);
}

Status write_dense(onnx::TensorProto* t, const std::string& name, const tensor& w) {
  const int id = dtype_onnx_id(w.type);
  if (id == 0 || dtype_bits(w.type) < 8) return bad_input("tensor '" + name + "': dense " + std::string(dtype_name(w.type)) + " has no ONNX type");
  set_raw_tensor(t, name, id, w.shape, w.data.data, w.data.size);
  return Status::ok_status();
}

Status write_graph(onnx::GraphProto* gp, const graph& g, name_pool& names, onnx_write_stats& stats, bool top);

Status write_attribute(onnx::AttributeProto* a, const node& n, const std::string& key, const attribute_value& value, name_pool& names,
                       onnx_write_stats& stats) {
  using A = onnx::AttributeProto;
  a->set_name(key);
  if (const auto* i = std::get_if<int64_t>(&value)) {
    if (n.op_type == "ConstantOfShape" && key == "value") {
      a->set_type(A::TENSOR);
      set_raw_tensor(a->mutable_t(), "", onnx_int64, {1}, i, sizeof(int64_t));
    } else {
      a->set_type(A::INT);
      a->set_i(*i);
    }
  } else if (const auto* d = std::get_if<double>(&value)) {
    if (n.op_type == "ConstantOfShape" && key == "value") {
      const float f = static_cast<float>(*d);
      a->set_type(A::TENSOR);
      set_raw_tensor(a->mutable_t(), "", onnx_float, {1}, &f, sizeof f);
    } else {
      a->set_type(A::FLOAT);
      a->set_f(static_cast<float>(*d));
    }
  } else if (const auto* s = std::get_if<std::string>(&value)) {
    a->set_type(A::STRING);
    a->set_s(*s);
  } else if (const auto* is = std::get_if<std::vector<int64_t>>(&value)) {
    a->set_type(A::INTS);
    for (int64_t v : *is) a->add_ints(v);
  } else if (const auto* fs = std::get_if<std::vector<double>>(&value)) {
    a->set_type(A::FLOATS);
    for (double v : *fs) a->add_floats(static_cast<float>(v));
  } else if (const auto* body = std::get_if<std::shared_ptr<const graph>>(&value)) {
    if (*body == nullptr) return internal_error("node '" + n.name + "' attribute '" + key + "' holds no graph");
    a->set_type(A::GRAPH);
    a->mutable_g()->set_name(n.name + "." + key);
    EP_RETURN_IF_ERROR(write_graph(a->mutable_g(), **body, names, stats, false));
  }
  return Status::ok_status();
}

void add_node(onnx::GraphProto* gp, const std::string& name, const std::string& op, std::vector<std::string> inputs, const std::string& output) {
  auto* n = gp->add_node();
  n->set_name(name);
  n->set_op_type(op);
  for (auto& in : inputs) n->add_input(in);
  n->add_output(output);
}

// Packs one code per element into the ONNX layout of `type` (UINT4: two per byte, low nibble first).
std::string pack_onnx_codes(const std::vector<uint8_t>& codes, int type) {
  if (type == onnx_uint8) return std::string(codes.begin(), codes.end());
  std::string out((codes.size() + 1) / 2, '\0');
  for (size_t i = 0; i < codes.size(); ++i) out[i / 2] = static_cast<char>(static_cast<uint8_t>(out[i / 2]) | (codes[i] & 0x0f) << (4 * (i % 2)));
  return out;
}

// W -> W.q, W.scale (f16) -> Cast -> DequantizeLinear [-> Reshape] -> W.
Status write_quantized(onnx::GraphProto* gp, const std::string& name, const tensor& w, name_pool& names) {
  const quant_encoding& q = w.quant;
  const std::string what = "tensor '" + name + "'";
  if (q.bits < 2 || q.bits > 8) return bad_input(what + ": " + std::to_string(q.bits) + "-bit codes have no ONNX DequantizeLinear form");
  if (const std::string problem = quant_layout_problem(w.shape.size(), q); !problem.empty()) return bad_input(what + ": " + problem);
  const auto view = quant_view_of(w.shape, q);
  const int64_t rows = view.rows, cols = view.cols, groups = q.groups_per_row(cols);
  const auto count = static_cast<uint64_t>(rows * cols);
  const int type = q.bits <= 4 ? onnx_uint4 : onnx_uint8;
  if (w.scales.size != static_cast<size_t>(rows * groups) * 2) return internal_error(what + ": scale blob size disagrees with its layout");

  // Codes, in the x layout: [rows, cols], or W's own [K, N] for a transposed view.
  std::string packed;
  std::vector<int64_t> x_dims;
  if (q.bits == 4 && !q.transposed) {
    packed.assign(reinterpret_cast<const char*>(w.data.data), packed_code_bytes(4, count));  // our 4-bit stream is the ONNX packing
  } else {
    std::vector<uint8_t> codes(count);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const uint8_t code = read_code(w.data.data, q.bits, static_cast<uint64_t>(r * cols + c));
        codes[static_cast<size_t>(q.transposed ? c * rows + r : r * cols + c)] = code;
      }
    packed = pack_onnx_codes(codes, type);
  }
  x_dims = q.transposed ? std::vector<int64_t>{cols, rows} : std::vector<int64_t>{rows, cols};

  // Scales (f16, bit-exact copies) and zero points, [rows, G] or [G, rows] when transposed;
  // one group per row gives the 1-D per-axis form.
  std::vector<uint16_t> scales(static_cast<size_t>(rows * groups));
  std::vector<uint8_t> zeros(scales.size());
  const auto* src = reinterpret_cast<const uint8_t*>(w.scales.data);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      const size_t i = static_cast<size_t>(r * groups + g);
      const size_t o = static_cast<size_t>(q.transposed ? g * rows + r : r * groups + g);
      scales[o] = static_cast<uint16_t>(src[2 * i] | src[2 * i + 1] << 8);
      zeros[o] = q.symmetric ? static_cast<uint8_t>(q.implicit_zero()) : read_code(w.zeros.data, q.bits, i);
    }
  const bool per_axis = groups == 1;
  const std::vector<int64_t> scale_dims = per_axis ? std::vector<int64_t>{rows} : q.transposed ? std::vector<int64_t>{groups, rows} : std::vector<int64_t>{rows, groups};

  const std::string x_name = names.fresh(name + ".q"), scale_name = names.fresh(name + ".scale"), scale_f32 = names.fresh(name + ".scale_f32"),
                    zp_name = names.fresh(name + ".zero_point");
  set_raw_tensor(gp->add_initializer(), x_name, type, x_dims, packed.data(), packed.size());
  set_raw_tensor(gp->add_initializer(), scale_name, onnx_float16, scale_dims, scales.data(), scales.size() * 2);
  const std::string zp_packed = pack_onnx_codes(zeros, type);
  set_raw_tensor(gp->add_initializer(), zp_name, type, scale_dims, zp_packed.data(), zp_packed.size());

  auto* cast = gp->add_node();
  cast->set_name(names.fresh(name + ".cast_scale"));
  cast->set_op_type("Cast");
  cast->add_input(scale_name);
  cast->add_output(scale_f32);
  auto* to = cast->add_attribute();
  to->set_name("to");
  to->set_type(onnx::AttributeProto::INT);
  to->set_i(onnx_float);

  const bool reshape = !q.transposed && w.shape != x_dims;
  const std::string dq_out = reshape ? names.fresh(name + ".dq") : name;
  auto* dq = gp->add_node();
  dq->set_name(names.fresh(name + ".dequantize"));
  dq->set_op_type("DequantizeLinear");
  dq->add_input(x_name);
  dq->add_input(scale_f32);
  dq->add_input(zp_name);
  dq->add_output(dq_out);
  auto* axis = dq->add_attribute();
  axis->set_name("axis");
  axis->set_type(onnx::AttributeProto::INT);
  axis->set_i(per_axis ? (q.transposed ? 1 : 0) : (q.transposed ? 0 : 1));
  if (!per_axis) {
    auto* block = dq->add_attribute();
    block->set_name("block_size");
    block->set_type(onnx::AttributeProto::INT);
    block->set_i(q.effective_group(cols));
  }
  if (reshape) {
    const std::string shape_name = names.fresh(name + ".shape");
    set_raw_tensor(gp->add_initializer(), shape_name, onnx_int64, {static_cast<int64_t>(w.shape.size())}, w.shape.data(), w.shape.size() * 8);
    add_node(gp, names.fresh(name + ".reshape"), "Reshape", {dq_out, shape_name}, name);
  }
  return Status::ok_status();
}

Status write_weight(onnx::GraphProto* gp, const std::string& name, const tensor& w, name_pool& names, onnx_write_stats& stats) {
  // ONNX has no sparse weight form here: a packed tensor goes out dense (pruned positions as zeros,
  // or as zero-point codes under DequantizeLinear), decoding to the same values.
  if (w.is_sparse()) return write_weight(gp, name, unpack_sparse_tensor(w), names, stats);
  if (w.is_quantized()) {
    EP_RETURN_IF_ERROR(write_quantized(gp, name, w, names));
    ++stats.quantized_weights;
    return Status::ok_status();
  }
  ++stats.dense_weights;
  return write_dense(gp->add_initializer(), name, w);
}

Status write_graph(onnx::GraphProto* gp, const graph& g, name_pool& names, onnx_write_stats& stats, bool top) {
  std::set<std::string> elsewhere;
  for (const auto& [body, list] : names.body_weights) elsewhere.insert(list.begin(), list.end());
  if (const auto it = names.body_weights.find(&g); it != names.body_weights.end() && !top)
    for (const auto& name : it->second) EP_RETURN_IF_ERROR(write_weight(gp, name, names.top_weights->at(name), names, stats));
  for (const auto& [name, w] : g.weights) {
    if (top && elsewhere.count(name)) continue;
    EP_RETURN_IF_ERROR(write_weight(gp, name, w, names, stats));
  }
  for (const auto& v : g.inputs) set_value_info(gp->add_input(), v);
  for (const auto& v : g.outputs) set_value_info(gp->add_output(), v);
  for (const auto& n : g.nodes) {
    auto* np = gp->add_node();
    np->set_name(n.name);
    np->set_op_type(n.op_type);
    if (!n.domain.empty()) np->set_domain(n.domain);
    for (const auto& in : n.inputs) np->add_input(in);
    for (const auto& out : n.outputs) np->add_output(out);
    for (const auto& [key, value] : n.attributes)
      EP_RETURN_IF_ERROR(write_attribute(np->add_attribute(), n, key, value, names, stats).with_context("node '" + n.name + "' (" + n.op_type + ")"));
  }
  return Status::ok_status();
}

Expected<std::string> serialize(const model& m, const onnx_write_options& options, onnx_write_stats& stats) {
  graph g = m.g;
  const auto it = g.opset_imports.find("");
  stats.opset_in = it == g.opset_imports.end() ? 0 : it->second;
  int64_t target = std::max(stats.opset_in, options.min_opset);
  bool any_quantized = false;
  for (const auto& [name, w] : g.weights) any_quantized = any_quantized || w.is_quantized();
  if (any_quantized) target = std::max(target, dql_block_opset);
  if (target < onnx_min_opset || target > onnx_max_opset)
    return bad_usage("ai.onnx opset " + std::to_string(target) + " is outside " + std::to_string(onnx_min_opset) + "-" + std::to_string(onnx_max_opset));
  if (stats.opset_in == 0) g.opset_imports[""] = target;
  else EP_RETURN_IF_ERROR(upgrade_opset(g, target));
  stats.opset_out = target;

  onnx::ModelProto mp;
  mp.set_ir_version(ir_version_for(target));
  mp.set_producer_name("edgepack");
  for (const auto& [domain, version] : g.opset_imports) {
    auto* op = mp.add_opset_import();
    op->set_domain(domain);
    op->set_version(version);
  }
  auto* gp = mp.mutable_graph();
  gp->set_name(m.format.empty() ? "edgepack" : "edgepack_from_" + m.format);
  name_pool names(g);
  names.top_weights = &g.weights;
  if (g.has_subgraphs()) {
    std::map<std::string, std::set<const graph*>> readers;
    collect_readers(g, readers);
    for (const auto& [name, w] : g.weights) {
      const auto it = readers.find(name);
      if (it != readers.end() && it->second.size() == 1 && *it->second.begin() != &g) names.body_weights[*it->second.begin()].push_back(name);
    }
  }
  EP_RETURN_IF_ERROR(write_graph(gp, g, names, stats, true));
  // Weight-decoding nodes were emitted first (they only read initializers): topological order holds.
  const size_t bytes = mp.ByteSizeLong();
  if (bytes > onnx_max_file_bytes) return bad_input("the ONNX model would be " + std::to_string(bytes) + " bytes, over protobuf's 2 GB limit");
  std::string out;
  if (!mp.SerializeToString(&out)) return internal_error("protobuf could not serialize the ONNX model");
  stats.bytes = out.size();
  return out;
}

}  // namespace

Expected<std::string> serialize_onnx(const model& m, const onnx_write_options& options, onnx_write_stats* stats) {
  onnx_write_stats local;
  try {
    auto result = serialize(m, options, stats ? *stats : local);
    return result;
  } catch (const std::bad_alloc&) {
    return internal_error("out of memory while building the ONNX model");
  } catch (const std::exception& e) {
    return internal_error(std::string("unexpected error while building the ONNX model: ") + e.what());
  }
}

Status write_onnx(const std::string& path, const model& m, const onnx_write_options& options, onnx_write_stats* stats) {
  EP_ASSIGN_OR_RETURN(std::string bytes, serialize_onnx(m, options, stats));
  return write_file_atomically(path, std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
}

}  // namespace edgepack
