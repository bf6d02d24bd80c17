// Input sets for running a graph model on .npy files (verify --inputs DIR, docs/cli.md#verify).
//
// DIR is one case, or a folder of cases (its subfolders, in name order, that hold .npy files or
// step_0/). DIR itself is a case when it holds any .npy file or a step_0/ folder. In a case:
//   <graph input name>.npy  feeds the input of that name;
//   input_<k>.npy           feeds graph input k (0-based, graph order, initializers excluded):
//                           the ONNX Runtime golden layout (../shared/models/GOLDENS.md);
//   output_<k>.npy, manifest.json and anything not ending in .npy are ignored.
// A name match wins over input_<k>. Every graph input needs exactly one file, of the graph's dtype
// and fixed dims (symbolic dims take any size).
// Multi-step (stateful) cases hold step_0/ ... step_<n-1>/, each laid out as above. manifest.json
// may give "state_carry": {input: output}: from step 1 on, that input is fed from the same model's
// own previous output, so each model carries its own state; the carried input's files are ignored
// (and may be absent) from step 1 on.
// Every error is bad_input and names the file or folder.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/status.h"
#include "runtime_ref/interpreter.h"

namespace edgepack {

struct input_case {
  std::string name;                                // subfolder name, or DIR's own folder name when DIR is the case
  std::vector<tensor_map> steps;                   // one input set per step (one for single-step cases)
  std::map<std::string, std::string> state_carry;  // input name -> output name
};

Expected<std::vector<input_case>> read_input_cases(const std::string& dir, const graph& g);

}  // namespace edgepack
