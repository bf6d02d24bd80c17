// ONNX TensorProto -> tensor: every storage form ONNX allows for the numeric types edgepack has
// (raw_data, the typed repeated fields, external data files), checked as hostile input.
// Internal to formats/: only the ONNX reader and its tests include this (it pulls in protobuf).
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "core/storage.h"
#include "core/tensor.h"
#include "onnx/onnx_pb.h"

namespace edgepack {

// Where external data may come from. Files are mapped once per read and shared by the tensors
// that view them, so a model split over one weights file costs one mapping.
struct onnx_external_files {
  std::string base_dir;  // the model's directory; empty refuses external data (in-memory reads, fuzzing)
  std::map<std::string, std::shared_ptr<mapped_file>> opened;  // canonical path -> mapping
};

// Core dtype for an ONNX TensorProto.DataType id; nullopt for types edgepack cannot hold
// (string, complex, float8, 4-bit).
std::optional<dtype> dtype_from_onnx_id(int onnx_id);

// Decodes one tensor. `what` names it in messages ("initializer 'w'", "Constant node 'c'").
// Data is copied into owned storage, except external data that is suitably aligned in its file,
// which stays a zero-copy view of the read-only mapping.
Expected<tensor> decode_onnx_tensor(const onnx::TensorProto& proto, const std::string& what, onnx_external_files& files);

}  // namespace edgepack
