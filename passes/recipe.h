// Recipes: a declared compression pipeline as JSON (docs/recipes.md). This file reads, validates and
// resolves them (every option filled with its default); tools/compress_pipeline runs the steps.
//
//   {"edgepack_recipe": 1, "calibration": {...}, "steps": [{"pass": "prune", ...}, {"pass": "quantize", ...},
//    {"pass": "pack"}, {"pass": "verify", ...}]}
//
// Step options mirror the CLI flags of prune/quantize/pack/verify (same names with '_' for '-', same
// defaults). Every problem is bad_usage (exit 2) and names the JSON path: "r.json: steps[1].scheme: ...".
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace edgepack {

inline constexpr int recipe_format_version = 1;

// Reads and resolves a recipe file (strict JSON: duplicate keys are errors).
Expected<nlohmann::json> load_recipe(const std::string& path);
// Validates `doc` and returns it with every default filled in. `label` prefixes messages (the file).
Expected<nlohmann::json> resolve_recipe(const nlohmann::json& doc, const std::string& label);
// The resolved recipe `compress --print-recipe` shows when no --recipe is given: RTN w4g32, packed.
nlohmann::json default_recipe();

// What only the model can tell: verify keys and calibration keys that do not fit its kind.
enum class recipe_model_kind { language_model, graph_model };
Status check_recipe_for_model(const nlohmann::json& resolved, recipe_model_kind kind, const std::string& label);

// The canonical text (compact, keys sorted) and its SHA-256, stored in the .epk provenance.
std::string canonical_recipe_text(const nlohmann::json& resolved);
std::string recipe_sha256(const nlohmann::json& resolved);

// A path written in the recipe, taken relative to the recipe file's folder (absolute paths stay).
// The resolved recipe keeps paths as written, so its hash does not depend on where it lies.
std::string resolve_recipe_path(const std::string& recipe_file, const std::string& path);

// The step of `pass` ("prune", "quantize", "pack", "verify") in a resolved recipe, or nullptr.
const nlohmann::json* find_recipe_step(const nlohmann::json& resolved, const std::string& pass);

}  // namespace edgepack
