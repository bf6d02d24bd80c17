// Compression reports (docs/reports.md): one JSON document (version 1) describing a model before and
// after compression -- per-tensor and total sizes, bits per weight, per-tensor error, the passes that
// ran, quality metrics against thresholds and the recipe -- rendered as JSON, Markdown or one
// self-contained HTML page. `compress --report` and `edgepack report` both build it here.
#pragma once
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/model.h"
#include "core/status.h"

namespace edgepack::report {

// Per-tensor + totals + by_kind sections comparing the model before compression (nullptr when unknown)
// with the model after. rel_error = ||W_after_decoded - W_before||_F / ||W_before||_F when before is given.
nlohmann::json size_sections(const model* before, const model& after);

// The "input" section: path, format, bytes and sha256 of the model file, or for a model read from
// several files (a Hugging Face folder) the sha256 of its "sha256  path" source listing. Uses the
// hashes the loader already recorded and hashes a file only when one is missing.
Expected<nlohmann::json> input_section(const std::string& path, const model& m);

enum class report_format { json, markdown, html };
// .json / .md / .html (case-insensitive), else bad_usage naming the path.
Expected<report_format> report_format_for_path(const std::filesystem::path& out);

std::string render(const nlohmann::json& report, report_format format);

// Renders by the extension of `out` and writes atomically (core/atomic_file.h): nothing partial, an
// existing file is replaced only when everything succeeded.
[[nodiscard]] Status write_report(const nlohmann::json& report, const std::filesystem::path& out);

}  // namespace edgepack::report
