// ONNX node attributes and Constant values -> the IR (internal to the ONNX reader).
#pragma once
#include <string>

#include "core/graph.h"
#include "formats/onnx_tensor.h"

namespace edgepack {

// INT, FLOAT (as double), STRING, INTS, FLOATS, and one-element TENSOR values as a scalar (int64 for
// integer/bool element types, double for float types). GRAPHS and other kinds are bad_input
// naming `node_what` and the attribute.
Expected<attribute_value> convert_attribute(const onnx::AttributeProto& a, const std::string& node_what, onnx_external_files& files);

// True for GRAPH attributes (also untyped ones that hold a graph): the reader converts those itself.
bool is_graph_attribute(const onnx::AttributeProto& a);

// The tensor a Constant node (default domain) produces: `value`, or the value_float/value_int/
// value_floats/value_ints shorthands. The reader stores it as a weight named after the output.
Expected<tensor> constant_value(const onnx::NodeProto& n, const std::string& what, onnx_external_files& files);

}  // namespace edgepack
