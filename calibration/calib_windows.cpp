#include "calibration/calib_windows.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "calibration/tokenizer.h"

namespace edgepack {

Expected<calib_sampling> parse_calib_sampling(const std::string& name, const std::string& flag) {
  if (name == "random") return calib_sampling::random;
  if (name == "sequential") return calib_sampling::sequential;
  return bad_usage(flag + " '" + name + "' is not known (random or sequential)");
}

Expected<calib_windows> make_calibration_windows(const std::string& text, const vocabulary& vocab, const calib_window_options& options,
                                                 const std::string& source) {
  if (options.samples < 1) return bad_usage(options.flag_prefix + "samples must be at least 1");
  if (options.seq < 2) return bad_usage(options.flag_prefix + "seq must be at least 2");
  if (text.empty()) return bad_input(source + ": the calibration text is empty");
  const tokenizer tok(vocab);
  const std::vector<int64_t> stream = tok.encode(text, true, false);
  const auto n = static_cast<int64_t>(stream.size());
  if (n < options.seq)
    return bad_input(source + ": the calibration text gives " + std::to_string(n) + " tokens, fewer than one window of " + options.flag_prefix + "seq " +
                     std::to_string(options.seq));
  calib_windows result;
  result.stream_tokens = n;
  auto cut = [&](int64_t start) {
    std::vector<int64_t> w(stream.begin() + start, stream.begin() + start + options.seq);
    w[0] = tok.bos_id();
    result.windows.push_back(std::move(w));
  };
  if (options.sampling == calib_sampling::sequential) {
    const int64_t count = std::min(options.samples, n / options.seq);
    for (int64_t k = 0; k < count; ++k) cut(k * options.seq);
  } else {
    std::mt19937_64 rng(options.seed);
    const auto span = static_cast<uint64_t>(n - options.seq + 1);
    for (int64_t k = 0; k < options.samples; ++k) cut(static_cast<int64_t>(rng() % span));
  }
  return result;
}

Expected<calib_windows> read_calibration_windows_json(const std::string& path, int64_t vocab_size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return bad_input(path + ": cannot open calibration windows file");
  std::ostringstream ss;
  ss << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const std::exception& e) {
    return bad_input(path + ": not valid JSON: " + e.what());
  }
  if (!j.is_object() || !j.contains("windows") || !j["windows"].is_array())
    return bad_input(path + ": expected a JSON object with \"windows\": [[id, ...], ...]");
  const auto& list = j["windows"];
  if (list.empty()) return bad_input(path + ": \"windows\" is empty");
  calib_windows result;
  size_t length = 0;
  for (size_t k = 0; k < list.size(); ++k) {
    const auto& w = list[k];
    const std::string where = path + ": window " + std::to_string(k);
    if (!w.is_array() || w.empty()) return bad_input(where + " is not a non-empty array of token ids");
    if (k == 0) length = w.size();
    if (w.size() != length)
      return bad_input(where + " has " + std::to_string(w.size()) + " ids, window 0 has " + std::to_string(length) + " (all must be equal)");
    std::vector<int64_t> ids;
    ids.reserve(w.size());
    for (const auto& id : w) {
      if (!id.is_number_integer()) return bad_input(where + " holds a value that is not an integer token id");
      const auto v = id.get<int64_t>();
      if (v < 0 || v >= vocab_size) return bad_input(where + ": token id " + std::to_string(v) + " outside the vocabulary of " + std::to_string(vocab_size));
      ids.push_back(v);
    }
    result.windows.push_back(std::move(ids));
  }
  return result;
}

}  // namespace edgepack
