// The LLM-specific parts of model_json.h: llm_config, vocabulary, sources.
#include "formats/model_json.h"

namespace edgepack {

ojson llm_config_to_json(const llm_config& c) {
  ojson out = ojson::object();
  out["architecture"] = c.architecture;
  out["dim"] = c.dim;
  out["hidden_dim"] = c.hidden_dim;
  out["layers"] = c.layers;
  out["heads"] = c.heads;
  out["kv_heads"] = c.kv_heads;
  out["head_dim"] = c.head_dim;
  out["vocab_size"] = c.vocab_size;
  out["max_seq_len"] = c.max_seq_len;
  out["norm_eps"] = double_to_json(c.norm_eps);
  out["rope_theta"] = double_to_json(c.rope_theta);
  out["rope_interleaved"] = c.rope_interleaved;
  out["tied_embeddings"] = c.tied_embeddings;
  out["bos_id"] = c.bos_id;
  out["eos_id"] = c.eos_id;
  return out;
}

Expected<llm_config> llm_config_from_json(const ojson& j, const std::string& path) {
  EP_RETURN_IF_ERROR(json_expect_object(j, path));
  llm_config c;
  EP_ASSIGN_OR_RETURN(c.architecture, json_string_field(j, "architecture", path));
  EP_ASSIGN_OR_RETURN(c.dim, json_int_field(j, "dim", path));
  EP_ASSIGN_OR_RETURN(c.hidden_dim, json_int_field(j, "hidden_dim", path));
  EP_ASSIGN_OR_RETURN(c.layers, json_int_field(j, "layers", path));
  EP_ASSIGN_OR_RETURN(c.heads, json_int_field(j, "heads", path));
  EP_ASSIGN_OR_RETURN(c.kv_heads, json_int_field(j, "kv_heads", path));
  EP_ASSIGN_OR_RETURN(c.head_dim, json_int_field(j, "head_dim", path));
  EP_ASSIGN_OR_RETURN(c.vocab_size, json_int_field(j, "vocab_size", path));
  EP_ASSIGN_OR_RETURN(c.max_seq_len, json_int_field(j, "max_seq_len", path));
  EP_ASSIGN_OR_RETURN(c.norm_eps, json_double_field(j, "norm_eps", path));
  EP_ASSIGN_OR_RETURN(c.rope_theta, json_double_field(j, "rope_theta", path));
  EP_ASSIGN_OR_RETURN(c.rope_interleaved, json_bool_field(j, "rope_interleaved", path));
  EP_ASSIGN_OR_RETURN(c.tied_embeddings, json_bool_field(j, "tied_embeddings", path));
  EP_ASSIGN_OR_RETURN(c.bos_id, json_int_field(j, "bos_id", path));
  EP_ASSIGN_OR_RETURN(c.eos_id, json_int_field(j, "eos_id", path));
  return c;
}

ojson vocabulary_to_json(const vocabulary& vocab) {
  ojson pieces = ojson::array(), scores = ojson::array();
  for (const auto& piece : vocab.pieces) pieces.push_back(bytes_to_json(piece));
  // float -> double is exact, and the double's shortest text parses back to the same float.
  for (float score : vocab.scores) scores.push_back(double_to_json(static_cast<double>(score)));
  ojson out = ojson::object();
  out["bos_id"] = vocab.bos_id;
  out["eos_id"] = vocab.eos_id;
  out["pieces"] = std::move(pieces);
  out["scores"] = std::move(scores);
  return out;
}

Expected<vocabulary> vocabulary_from_json(const ojson& j, const std::string& path) {
  EP_RETURN_IF_ERROR(json_expect_object(j, path));
  vocabulary vocab;
  EP_ASSIGN_OR_RETURN(vocab.bos_id, json_int_field(j, "bos_id", path));
  EP_ASSIGN_OR_RETURN(vocab.eos_id, json_int_field(j, "eos_id", path));
  EP_ASSIGN_OR_RETURN(const ojson* pieces, json_field(j, "pieces", path));
  const std::string pieces_path = json_path_join(path, "pieces");
  EP_RETURN_IF_ERROR(json_expect_array(*pieces, pieces_path));
  vocab.pieces.reserve(pieces->size());
  for (size_t i = 0; i < pieces->size(); ++i) {
    EP_ASSIGN_OR_RETURN(std::string piece, bytes_from_json((*pieces)[i], json_path_index(pieces_path, i)));
    vocab.pieces.push_back(std::move(piece));
  }
  EP_ASSIGN_OR_RETURN(const ojson* scores, json_field(j, "scores", path));
  const std::string scores_path = json_path_join(path, "scores");
  EP_RETURN_IF_ERROR(json_expect_array(*scores, scores_path));
  if (!scores->empty() && scores->size() != pieces->size())
    return bad_input(scores_path + ": " + std::to_string(scores->size()) + " scores for " +
                     std::to_string(pieces->size()) + " pieces");
  vocab.scores.reserve(scores->size());
  for (size_t i = 0; i < scores->size(); ++i) {
    EP_ASSIGN_OR_RETURN(double score, json_to_double((*scores)[i], json_path_index(scores_path, i)));
    vocab.scores.push_back(static_cast<float>(score));
  }
  return vocab;
}

ojson sources_to_json(const std::vector<source_file>& sources) {
  ojson out = ojson::array();
  for (const auto& s : sources) {
    ojson entry = ojson::object();
    entry["path"] = bytes_to_json(s.path);  // file names are bytes on POSIX
    entry["sha256"] = s.sha256;
    entry["bytes"] = s.bytes;
    out.push_back(std::move(entry));
  }
  return out;
}

Expected<std::vector<source_file>> sources_from_json(const ojson& j, const std::string& path) {
  EP_RETURN_IF_ERROR(json_expect_array(j, path));
  std::vector<source_file> sources;
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string entry_path = json_path_index(path, i);
    EP_RETURN_IF_ERROR(json_expect_object(j[i], entry_path));
    source_file s;
    EP_ASSIGN_OR_RETURN(const ojson* file_path, json_field(j[i], "path", entry_path));
    EP_ASSIGN_OR_RETURN(s.path, bytes_from_json(*file_path, json_path_join(entry_path, "path")));
    EP_ASSIGN_OR_RETURN(s.sha256, json_string_field(j[i], "sha256", entry_path));
    EP_ASSIGN_OR_RETURN(s.bytes, json_uint_field(j[i], "bytes", entry_path));
    sources.push_back(std::move(s));
  }
  return sources;
}

}  // namespace edgepack
