// edgepack run MODEL --prompt TEXT | --input NAME=FILE.npy -o DIR [--repeat N] [--threads N] [--json]
#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "calibration/tokenizer.h"
#include "formats/npy.h"
#include "runtime_ref/interpreter.h"
#include "runtime_ref/kernel_threads.h"
#include "runtime_ref/llm_session.h"
#include "runtime_ref/sampler.h"
#include "tools/cli_common.h"

namespace edgepack::cli {

namespace {

struct run_args {
  std::string model_path;
  std::string prompt;
  bool prompt_given = false;
  int64_t tokens = 64;
  double temperature = 0.0;
  uint64_t seed = 42;
  std::vector<std::string> inputs;
  std::string output_dir;
  int64_t repeat = 0;   // timed warm runs after the first (graph run only)
  int threads = 1;      // kernel threads; 0 = all cores
  bool json = false;
  load_options load;
};

Status generate(const model& m, const run_args& args) {
  if (m.vocab.empty()) return bad_usage("the model has no tokenizer; pass --tokenizer tok.bin");
  EP_ASSIGN_OR_RETURN(llm_session session, llm_session::create(m));
  tokenizer tok(m.vocab);
  std::vector<int64_t> ids = tok.encode(args.prompt, true, false);
  const int64_t limit = std::min<int64_t>(session.config().max_seq_len, static_cast<int64_t>(ids.size()) + args.tokens);
  if (static_cast<int64_t>(ids.size()) >= session.config().max_seq_len) return bad_usage("the prompt is longer than the model's context");
  sampler pick(args.temperature, args.seed);
  // Plain mode streams the text as it is generated; --json prints one document at the end.
  std::string text = args.prompt;
  if (!args.json) std::cout << args.prompt << std::flush;
  const size_t prompt_tokens = ids.size();
  const auto start = std::chrono::steady_clock::now();
  EP_ASSIGN_OR_RETURN(std::vector<float> logits, session.forward(ids));
  const int64_t vocab = session.config().vocab_size;
  int64_t previous = ids.back();
  while (static_cast<int64_t>(ids.size()) < limit) {
    const std::span<const float> last(logits.data() + logits.size() - static_cast<size_t>(vocab), static_cast<size_t>(vocab));
    const int64_t next = pick.next(last);
    if (next == m.vocab.eos_id || next == m.vocab.bos_id) break;
    const std::string piece = tok.decode_piece(previous, next);
    text += piece;
    if (!args.json) std::cout << piece << std::flush;
    ids.push_back(next);
    previous = next;
    const int64_t one[] = {next};
    EP_ASSIGN_OR_RETURN(logits, session.forward(one));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!args.json) {
    std::cout << "\n";
    return Status::ok_status();
  }
  const std::vector<int64_t> generated(ids.begin() + static_cast<std::ptrdiff_t>(prompt_tokens), ids.end());
  print_json({{"model", args.model_path},
              {"prompt", args.prompt},
              {"text", text},
              {"prompt_tokens", prompt_tokens},
              {"generated_ids", generated},
              {"temperature", args.temperature},
              {"seed", args.seed},
              {"seconds", seconds},
              {"tokens_per_second", seconds > 0 ? static_cast<double>(generated.size()) / seconds : 0.0}});
  return Status::ok_status();
}

Status run_graph(const model& m, const run_args& args) {
  if (args.output_dir.empty()) return bad_usage("--input needs -o DIR for the outputs");
  tensor_map inputs;
  for (const auto& spec : args.inputs) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) return bad_usage("--input '" + spec + "' must be NAME=FILE.npy");
    EP_ASSIGN_OR_RETURN(tensor t, read_npy(spec.substr(eq + 1)));
    inputs[spec.substr(0, eq)] = std::move(t);
  }
  for (const auto& [name, t] : inputs) {
    bool known = false;
    for (const auto& info : m.g.inputs) known = known || info.name == name;
    if (!known) return bad_usage("--input '" + name + "' is not an input of the model");
  }
  // Failures from here on are about the model, so they name it (npy errors above name their file).
  EP_RETURN_IF_ERROR(fill_llm_default_inputs(m, inputs).with_context(args.model_path));
  auto interp = interpreter::create(m.g);
  if (!interp.ok()) return interp.status().with_context(args.model_path);
  auto outputs = interp->run(inputs);
  if (!outputs.ok()) return outputs.status().with_context(args.model_path);
  // Latency: the first run above warms caches and allocations; each timed run is one full graph run.
  // Wall time, and process CPU time (all threads): on a shared or CPU-quota-throttled machine the
  // CPU time of a 1-thread run is the steadier measure of the work done.
  std::vector<double> times_ms, cpu_ms;
  for (int64_t r = 0; r < args.repeat; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    auto again = interp->run(inputs);
    const std::clock_t cpu_stop = std::clock();
    const auto stop = std::chrono::steady_clock::now();
    if (!again.ok()) return again.status().with_context(args.model_path);
    times_ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
    cpu_ms.push_back(1000.0 * static_cast<double>(cpu_stop - cpu_start) / CLOCKS_PER_SEC);
  }
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t mid = v.size() / 2;
    return v.size() % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2.0;
  };
  double median_ms = 0.0, median_cpu_ms = 0.0;
  if (!times_ms.empty()) {
    median_ms = median(times_ms);
    median_cpu_ms = median(cpu_ms);
    info("median " + std::to_string(median_ms) + " ms wall, " + std::to_string(median_cpu_ms) + " ms CPU over " + std::to_string(times_ms.size()) +
         " runs (" + std::to_string(kernel_threads()) + " thread(s))");
  }
  std::error_code ec;
  std::filesystem::create_directories(args.output_dir, ec);
  if (ec) return io_failure(args.output_dir + ": cannot create directory: " + ec.message());
  for (const auto& [name, t] : *outputs) {
    const std::string path = (std::filesystem::path(args.output_dir) / (name + ".npy")).string();
    EP_RETURN_IF_ERROR(write_npy(path, t));
    info("wrote " + path + " " + shape_to_string(t.shape));
  }
  if (args.json) {
    nlohmann::json j{{"model", args.model_path}, {"threads", kernel_threads()}, {"outputs", nlohmann::json::array()}};
    for (const auto& [name, t] : *outputs) j["outputs"].push_back({{"name", name}, {"dtype", dtype_name(t.type)}, {"shape", t.shape}});
    if (!times_ms.empty()) {
      j["repeat"] = times_ms.size();
      j["times_ms"] = times_ms;
      j["median_ms"] = median_ms;
      j["cpu_ms"] = cpu_ms;
      j["median_cpu_ms"] = median_cpu_ms;
    }
    print_json(j);
  }
  return Status::ok_status();
}

Status run(const run_args& args) {
  if (args.prompt_given == !args.inputs.empty()) return bad_usage("give either --prompt TEXT or --input NAME=FILE.npy (one of them)");
  if (args.prompt_given && args.repeat > 0) return bad_usage("--repeat applies to --input graph runs only");
  set_kernel_threads(args.threads);
  EP_ASSIGN_OR_RETURN(model m, load(args.model_path, args.load));
  if (args.prompt_given) return generate(m, args).with_context(args.model_path);
  return run_graph(m, args);
}

}  // namespace

void register_run(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<run_args>();
  CLI::App* cmd = app.add_subcommand("run", "Generate text from a language model, or run a model on .npy inputs");
  cmd->add_option("model", args->model_path, "Model file or directory (any readable format, including .epk)")->required();
  auto* prompt = cmd->add_option("--prompt", args->prompt, "Text to continue (may be empty: generation starts from BOS)");
  cmd->add_option("-n,--tokens", args->tokens, "Tokens to generate")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--temperature", args->temperature, "0 = greedy; > 0 samples from softmax(logits / T)")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", args->seed, "Sampling seed")->capture_default_str();
  cmd->add_option("--input", args->inputs, "Graph input NAME=FILE.npy (repeatable); LLMs need only input_ids")->take_all();
  cmd->add_option("-o,--output", args->output_dir, "Directory for <output name>.npy files (with --input)");
  cmd->add_option("--repeat", args->repeat, "After the first run, time N more warm runs and report the median latency (stderr, and --json)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--threads", args->threads, "Threads for the GEMM-shaped kernels (0 = all cores); outputs are identical at any count")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", args->json, "Print JSON on stdout: with --prompt the text, generated ids and tokens/s; with --input the outputs (name, dtype, shape) and timings");
  add_tokenizer_option(*cmd, args->load);
  cmd->callback([args, prompt, &exit_code] {
    args->prompt_given = prompt->count() > 0;
    exit_code = report(run(*args));
  });
}

}  // namespace edgepack::cli
