#include "runtime_ref/kernel.h"

namespace edgepack {

Status kernel_io::fail(const std::string& message) const {
  return bad_input("node '" + op.name + "' (" + op.op_type + "): " + message);
}

Status kernel_io::require_inputs(size_t min_count) const {
  for (size_t i = 0; i < min_count; ++i) {
    if (input(i) == nullptr) return fail("input " + std::to_string(i) + " is required");
  }
  return Status::ok_status();
}

Status kernel_io::require_type(size_t index, dtype type) const {
  const tensor* t = input(index);
  if (t == nullptr || t->type == type) return Status::ok_status();
  return fail("input " + std::to_string(index) + " has type " + std::string(dtype_name(t->type)) + ", expected " + std::string(dtype_name(type)));
}

kernel_function find_kernel(const std::string& domain, const std::string& op_type) {
  if (!domain.empty() && domain != "ai.onnx") return nullptr;
#define EDGEPACK_OP(name, function, since) \
  if (op_type == #name) return &function;
#include "runtime_ref/ops.def"
#undef EDGEPACK_OP
  return nullptr;
}

}  // namespace edgepack
