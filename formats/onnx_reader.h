// ONNX reader: ModelProto (libonnx-dev's protobuf classes) -> the IR.
//
// What comes across: graph inputs that are not initializers, graph outputs (dtype, fixed or
// symbolic dims; a dim with neither value nor name becomes the symbol ""), nodes in file order
// (unnamed nodes get "op_<index>"), attributes (INT, FLOAT as double, STRING, INTS, FLOATS, and
// one-element TENSOR values such as ConstantOfShape's as int64 or double by element kind), opset
// imports ("ai.onnx" is stored as ""), initializers in every ONNX storage form, and Constant nodes,
// which become weights named after their output and leave the graph, so weights exported that way
// (all of PaddleOCR's) are quantizable like initializers.
//
// Bytes are hostile (DESIGN.md §4.4, policy in docs/errors.md): files over 2 GB (protobuf's limit)
// are refused; malformed protobuf, missing or duplicate initializers, size/dims mismatches,
// overflowing dims, nodes out of topological order (or in a cycle), inputs without a producer, a
// graph input whose declared type disagrees with its initializer, and external data that is
// absolute, uses `..`, leaves the directory through a symlink or lies beyond its file are all
// bad_input naming the node or tensor. No exception leaves these functions.
//
// Not yet supported, refused with a clear message: subgraphs (If/Loop/Scan bodies), tensor
// attributes of more than one element on nodes other than Constant, sparse initializers,
// string/complex/float8/int4 tensors.
// Whether each op can run is the runtime's question (interpreter::create lists them all at once).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/model.h"

namespace edgepack {

// Opset range of the default (ai.onnx) domain the reader accepts.
inline constexpr int64_t onnx_min_opset = 7;
inline constexpr int64_t onnx_max_opset = 23;
// protobuf cannot parse messages of 2 GB or more; bigger models must use external data.
inline constexpr uint64_t onnx_max_file_bytes = (uint64_t{2} << 30) - 1;

// Reads a .onnx file; external data resolves against the file's directory. Messages start with the path.
Expected<model> read_onnx(const std::string& path);
// Same checks on bytes in memory (the fuzz entry). display_name prefixes messages; base_dir is
// the directory external data must live in, empty to refuse external data.
Expected<model> read_onnx_from_memory(std::span<const std::byte> bytes, const std::string& display_name, const std::string& base_dir);

}  // namespace edgepack
