// Runs a model's graph node by node with the reference kernels.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "core/model.h"
#include "runtime_ref/kernel.h"

namespace edgepack {

using tensor_map = std::map<std::string, tensor>;

class interpreter {
 public:
  // Checks that every op has a kernel (listing all unsupported ops at once, subgraphs included,
  // naming the node path of those inside If/Loop bodies) and decodes encoded weights to f32. The
  // model must outlive the interpreter only for its weights' storage, which the interpreter shares.
  static Expected<interpreter> create(const graph& g);

  // Runs the graph. Every graph input must be given; returns every graph output.
  Expected<tensor_map> run(const tensor_map& inputs) const;

  const graph& program() const { return *graph_; }

  // One graph (the model's or a subgraph) prepared to run; defined in interpreter.cpp.
  struct compiled_graph;

 private:
  std::shared_ptr<const graph> graph_;  // copy of the graph with decoded f32 weights
  std::shared_ptr<const compiled_graph> main_;
};

}  // namespace edgepack
