// Runs a contiguous range of a graph's nodes, [begin, end), on the values live before `begin`,
// leaving the values live after it: the building block of layer-by-layer calibration
// (passes/quantize_gptq.h), where every calibration window's state is carried from one stage to the
// next instead of rerunning the model from its inputs.
//
// A value is live at position p when it is a graph input or produced by a node before p, and some
// node at or after p reads it (as an input, or from inside a subgraph it holds). Graph outputs are
// not kept for their own sake: the segment exists to reach later nodes.
//
// The range is cut out as a graph of its own (inputs: the live values it reads; weights: those its
// nodes read, decoded like the interpreter does; outputs: the values it produces that stay live) and
// run by the reference interpreter, so results are exactly those of a whole-graph run.
#pragma once
#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "runtime_ref/interpreter.h"

namespace edgepack {

class graph_segment {
 public:
  // `g` must validate; 0 <= begin <= end <= g.nodes.size(). `state_example` is one window's live
  // values before `begin` (their dtypes and ranks type the segment's inputs).
  static Expected<graph_segment> create(const graph& g, size_t begin, size_t end, const tensor_map& state_example);

  // Values live before node `position` of `g` (graph inputs included), sorted.
  static std::set<std::string> live_before(const graph& g, size_t position);

  // Runs the segment on `state` (the values live before `begin`), which becomes the values live
  // after `end`. Safe to call concurrently on different states.
  Status run(tensor_map& state) const;

 private:
  std::shared_ptr<const interpreter> interpreter_;  // null for an empty range
  std::vector<std::string> inputs_;
  std::set<std::string> live_after_;
};

}  // namespace edgepack
