// Sharded safetensors checkpoints: model.safetensors.index.json names, for every tensor, the
// shard file that holds it. The index is as untrusted as the shards: shard names could point
// outside the model directory, and index and shards could disagree about which tensors exist.
#include <filesystem>
#include <map>
#include <set>
#include <vector>

#include "formats/safetensors.h"
#include "formats/strict_json.h"

namespace edgepack {
namespace {

using nlohmann::json;

// Shards must be plain file names beside the index: no directories, no way up, nothing absolute.
std::optional<std::string> shard_name_problem(const std::string& name) {
  if (name.empty()) return "shard file name is empty";
  if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos)
    return "shard file name '" + name + "' must be a plain file name in the index's directory (no '/', no absolute path)";
  if (name.find("..") != std::string::npos) return "shard file name '" + name + "' must not contain '..'";
  if (name.find('\0') != std::string::npos) return "shard file name contains a NUL byte";
  return std::nullopt;
}

Expected<json> read_index_json(const std::string& path) {
  EP_ASSIGN_OR_RETURN(std::shared_ptr<mapped_file> file, mapped_file::open(path));
  if (file->size() > safetensors_max_header_bytes)
    return bad_input(path + ": index is " + std::to_string(file->size()) + " bytes, more than the cap of " +
                     std::to_string(safetensors_max_header_bytes));
  const std::string_view text(reinterpret_cast<const char*>(file->data()), file->size());
  strict_json_options options;
  auto parsed = parse_strict_json(text, options);
  if (!parsed.ok()) return parsed.status().with_context(path);
  return std::move(parsed).value();
}

Status read_index_metadata(const json& index, std::map<std::string, std::string>& out) {
  const auto it = index.find("metadata");
  if (it == index.end() || it->is_null()) return Status::ok_status();
  if (!it->is_object()) return bad_input("'metadata' must be an object");
  // HF writes {"total_size": <bytes>}: keep strings as they are and other values as JSON text.
  for (const auto& [key, value] : it->items()) out[key] = value.is_string() ? value.get<std::string>() : value.dump();
  return Status::ok_status();
}

Expected<safetensors_set> read_index(const std::string& index_path) {
  EP_ASSIGN_OR_RETURN(json index, read_index_json(index_path));
  if (!index.is_object()) return bad_input(index_path + ": index is not a JSON object");
  safetensors_set out;
  EP_RETURN_IF_ERROR(read_index_metadata(index, out.metadata).with_context(index_path));

  const auto map_it = index.find("weight_map");
  if (map_it == index.end()) return bad_input(index_path + ": missing 'weight_map'");
  if (!map_it->is_object()) return bad_input(index_path + ": 'weight_map' must be an object");
  std::map<std::string, std::string> shard_of;  // tensor -> shard name
  std::set<std::string> shards;
  for (const auto& [name, shard] : map_it->items()) {
    if (!shard.is_string()) return bad_input(index_path + ": tensor '" + name + "': weight_map value must be a shard file name");
    const auto& shard_name = shard.get_ref<const std::string&>();
    if (auto problem = shard_name_problem(shard_name)) return bad_input(index_path + ": tensor '" + name + "': " + *problem);
    shard_of[name] = shard_name;
    shards.insert(shard_name);
  }

  // Open every shard first, then judge: a tensor in two shards is a duplicate whichever shard
  // the weight_map names, and that is a clearer message than "listed for the other shard".
  const std::filesystem::path dir = std::filesystem::path(index_path).parent_path();
  std::map<std::string, std::vector<std::string>> found_in;  // tensor -> shards holding it
  std::vector<safetensors_file> opened;
  for (const std::string& shard_name : shards) {
    const std::string shard_path = (dir / shard_name).string();
    EP_ASSIGN_OR_RETURN(safetensors_file shard, read_safetensors(shard_path));
    for (const auto& entry : shard.tensors) found_in[entry.first].push_back(shard_name);
    out.files.push_back(shard_path);
    opened.push_back(std::move(shard));
  }
  for (const auto& [name, holders] : found_in) {
    if (holders.size() > 1)
      return bad_input(index_path + ": tensor '" + name + "': duplicate tensor, present in shards '" + holders[0] + "' and '" +
                       holders[1] + "'");
    const auto listed = shard_of.find(name);
    const std::string shard_path = (dir / holders[0]).string();
    if (listed == shard_of.end())
      return bad_input(shard_path + ": tensor '" + name + "': present in the shard but not listed in the weight_map of " + index_path);
    if (listed->second != holders[0])
      return bad_input(shard_path + ": tensor '" + name + "': present in this shard but the weight_map of " + index_path +
                       " assigns it to shard '" + listed->second + "'");
  }
  for (auto& shard : opened)
    for (auto& [name, t] : shard.tensors) out.tensors.emplace(name, std::move(t));
  for (const auto& [name, shard_name] : shard_of)
    if (!out.tensors.contains(name))
      return bad_input(index_path + ": tensor '" + name + "': listed in weight_map but missing from shard '" + shard_name + "'");
  return out;
}

}  // namespace

Expected<safetensors_set> read_safetensors_index(const std::string& index_json_path) {
  try {
    return read_index(index_json_path);
  } catch (const std::exception& e) {  // format boundary: e.g. json::dump of odd metadata, filesystem errors
    return bad_input(index_json_path + ": cannot read safetensors index: " + e.what());
  }
}

}  // namespace edgepack
