#include "passes/gptq_observers.h"

#include <algorithm>
#include <vector>

#include "runtime_ref/kernels/spatial.h"

namespace edgepack {

namespace {

bool is_op(const node& n, const char* op) { return n.op_type == op && n.domain.empty(); }

// The observer one reader gives, or nullopt with `why`.
std::optional<gptq_observer> reader_observer(const node& n, const std::string& name, const tensor& w, std::string* why) {
  const auto reads_elsewhere = [&](size_t weight_input) {
    for (size_t k = 0; k < n.inputs.size(); ++k)
      if (k != weight_input && n.inputs[k] == name) return true;
    return false;
  };
  gptq_observer o;
  if (is_op(n, "Gemm") || is_op(n, "MatMul")) {
    if (n.inputs.size() < 2 || n.inputs[1] != name || reads_elsewhere(1) || w.shape.size() != 2) {
      *why = n.op_type + " '" + n.name + "' does not read it as its 2-D weight operand B";
      return std::nullopt;
    }
    if (is_op(n, "Gemm") && n.int_attr("transA", 0) != 0) {
      *why = "Gemm '" + n.name + "' has transA = 1";
      return std::nullopt;
    }
    const bool trans_b = is_op(n, "Gemm") && n.int_attr("transB", 0) != 0;
    o.kind = gptq_reader_kind::rows;
    o.dim = trans_b ? w.shape[1] : w.shape[0];
  } else if (is_op(n, "Conv")) {
    if (n.inputs.size() < 2 || n.inputs[1] != name || reads_elsewhere(1) || w.shape.size() < 3) {
      *why = "Conv '" + n.name + "' does not read it as its weight W";
      return std::nullopt;
    }
    if (n.int_attr("group", 1) != 1) {
      *why = "Conv '" + n.name + "' has group " + std::to_string(n.int_attr("group", 1)) +
             " (grouped/depthwise: each group of output channels sees other input channels)";
      return std::nullopt;
    }
    if (w.shape.size() > 4) {
      *why = "Conv '" + n.name + "' is 3-D";
      return std::nullopt;
    }
    o.kind = gptq_reader_kind::conv;
    o.kernel.assign(w.shape.begin() + 2, w.shape.end());
    o.dim = w.shape[1];
    for (int64_t k : o.kernel) o.dim *= k;
    o.conv = &n;
  } else {
    *why = "read by " + n.op_type + " '" + n.name + "'";
    return std::nullopt;
  }
  o.activation = n.inputs[0];
  if (o.activation == name) {
    *why = n.op_type + " '" + n.name + "' reads it as its activation too";
    return std::nullopt;
  }
  return o;
}

std::string conv_geometry(const node& n) {
  std::string s;
  for (const char* key : {"strides", "dilations", "pads"}) {
    s += std::string(key) + "=";
    for (int64_t v : n.ints_attr(key)) s += std::to_string(v) + ",";
  }
  return s + "auto_pad=" + string_attr(n, "auto_pad", "NOTSET");
}

}  // namespace

std::string gptq_observer::key() const {
  std::string k = activation + (kind == gptq_reader_kind::conv ? "|conv|" : "|rows|") + std::to_string(dim);
  if (kind == gptq_reader_kind::conv) {
    for (int64_t v : kernel) k += "x" + std::to_string(v);
    k += "|" + conv_geometry(*conv);
  }
  return k;
}

std::optional<gptq_observer> find_gptq_observer(const graph& g, const std::string& name, std::string* why) {
  const tensor* w = g.find_weight(name);
  if (w == nullptr) {
    *why = "not a weight";
    return std::nullopt;
  }
  std::optional<gptq_observer> found;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const node& n = g.nodes[i];
    for (const auto& [key, value] : n.attributes) {
      const auto* body = std::get_if<std::shared_ptr<const graph>>(&value);
      if (body != nullptr && *body != nullptr && (*body)->outer_references().count(name)) {
        *why = "read inside the subgraph of " + n.op_type + " '" + n.name + "'";
        return std::nullopt;
      }
    }
    if (std::find(n.inputs.begin(), n.inputs.end(), name) == n.inputs.end()) continue;
    std::optional<gptq_observer> o = reader_observer(n, name, *w, why);
    if (!o) return std::nullopt;
    o->first_node = i;
    if (!found) {
      found = std::move(o);
    } else if (o->key() != found->key()) {
      *why = "its readers multiply it with different inputs ('" + found->activation + "', '" + o->activation + "') or patch geometries";
      return std::nullopt;
    }
  }
  if (!found) *why = "no node reads it";
  return found;
}

Status observe_hessian_rows(const gptq_observer& observer, const tensor& x, hessian_accumulator& acc) {
  const auto mismatch = [&](const std::string& expected) {
    return bad_input("GPTQ: input '" + observer.activation + "' is " + std::string(dtype_name(x.type)) + " " + shape_to_string(x.shape) +
                     ", expected f32 " + expected);
  };
  if (observer.kind == gptq_reader_kind::rows) {
    const std::string expected = "[..., " + std::to_string(observer.dim) + "]";
    if (x.type != dtype::f32 || x.is_quantized() || x.shape.empty() || x.shape.back() != observer.dim) return mismatch(expected);
    return acc.add_rows(x.data_as<float>(), x.numel() / observer.dim);
  }
  // Conv: rows are im2col patches, (c, ky, kx) order as in W [O, C, kh, kw].
  const size_t spatial = observer.kernel.size();
  const int64_t taps_per_channel = observer.dim / std::max<int64_t>(1, x.shape.size() > 1 ? x.shape[1] : 1);
  if (x.type != dtype::f32 || x.is_quantized() || x.shape.size() != spatial + 2 || x.shape[1] * taps_per_channel != observer.dim)
    return mismatch("[N, " + std::to_string(observer.dim / std::max<int64_t>(1, taps_per_channel)) + ", spatial...] for a " +
                    std::to_string(spatial) + "-D Conv");
  const kernel_io io{*observer.conv, {}, {}};
  window_2d w;
  EP_RETURN_IF_ERROR(resolve_window(io, std::span<const int64_t>(x.shape.data() + 2, spatial), observer.kernel, {}, w));
  const int64_t batch = x.shape[0], channels = x.shape[1];
  const int64_t in_area = w.in[0] * w.in[1], out_area = w.out[0] * w.out[1];
  const int64_t dim = observer.dim;
  // Fixed chunk (a function of dim only): about 16 MiB of patches at a time.
  const int64_t chunk = std::clamp<int64_t>((int64_t{1} << 22) / dim, 1, 2048);
  std::vector<float> patches(static_cast<size_t>(chunk * dim));
  const float* xdata = x.data_as<float>();
  int64_t filled = 0;
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t p = 0; p < out_area; ++p) {
      const int64_t oy = p / w.out[1], ox = p % w.out[1];
      float* row = patches.data() + filled * dim;
      for (int64_t c = 0; c < channels; ++c) {
        const float* plane = xdata + (n * channels + c) * in_area;
        for (int64_t ki = 0; ki < w.kernel[0]; ++ki) {
          const int64_t iy = oy * w.stride[0] - w.pad_begin[0] + ki * w.dilation[0];
          for (int64_t kj = 0; kj < w.kernel[1]; ++kj) {
            const int64_t ix = ox * w.stride[1] - w.pad_begin[1] + kj * w.dilation[1];
            *row++ = iy < 0 || iy >= w.in[0] || ix < 0 || ix >= w.in[1] ? 0.0f : plane[iy * w.in[1] + ix];
          }
        }
      }
      if (++filled == chunk) {
        EP_RETURN_IF_ERROR(acc.add_rows(patches.data(), filled));
        filled = 0;
      }
    }
  if (filled > 0) EP_RETURN_IF_ERROR(acc.add_rows(patches.data(), filled));
  return Status::ok_status();
}

}  // namespace edgepack
