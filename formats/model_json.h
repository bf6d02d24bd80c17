// JSON form of the model IR (everything except tensor bytes): graph structure, attributes,
// value infos, opset imports, LLM config, vocabulary and provenance. This is the metadata of
// .epk files (schema in docs/format.md) and the machine-readable form `inspect --json` prints.
//
// Round-trips are exact: attributes carry a type tag so int 1 and float 1.0 stay distinct, doubles
// print in shortest round-trip form (non-finite ones as "NaN"/"Infinity"/"-Infinity"), and strings
// that may hold arbitrary bytes (vocabulary pieces, string attributes) fall back to {"hex": ...}
// when they are not valid UTF-8. Readers name the JSON path of any bad field and ignore unknown
// fields (later minor versions may add optional ones).
#pragma once
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/model.h"
#include "formats/json_fields.h"

namespace edgepack {

// A GRAPH attribute is {"type": "graph", "value": {"inputs", "outputs", "nodes"}}: a subgraph
// has no opset_imports and no weights of its own (they are hoisted into the model's tensor table).
// `depth` counts the subgraphs around this attribute; deeper than max_subgraph_depth is bad_input.
ojson attribute_to_json(const attribute_value& value);
Expected<attribute_value> attribute_from_json(const ojson& j, const std::string& path, int depth = 0);

// Dimensions: a fixed size is an integer >= 0, a symbol is its name, unknown is null.
ojson value_info_to_json(const value_info& info);
Expected<value_info> value_info_from_json(const ojson& j, const std::string& path);

ojson node_to_json(const node& n);
Expected<node> node_from_json(const ojson& j, const std::string& path, int depth = 0);

// Graph structure: opset_imports, inputs, outputs, nodes. Weights live in the .epk tensor table,
// so graph_from_json leaves `weights` empty.
ojson graph_to_json(const graph& g);
Expected<graph> graph_from_json(const ojson& j, const std::string& path);

ojson llm_config_to_json(const llm_config& config);
Expected<llm_config> llm_config_from_json(const ojson& j, const std::string& path);

ojson vocabulary_to_json(const vocabulary& vocab);
Expected<vocabulary> vocabulary_from_json(const ojson& j, const std::string& path);

ojson sources_to_json(const std::vector<source_file>& sources);
Expected<std::vector<source_file>> sources_from_json(const ojson& j, const std::string& path);

// Names (nodes, values, ops, domains, weights, sources) must be UTF-8 to be stored as JSON
// strings; returns bad_input naming the JSON path of the first that is not. Also refuses
// subgraphs that still hold weights (hoist_subgraph_weights moves them to the tensor table).
Status check_model_text(const model& m);

}  // namespace edgepack
