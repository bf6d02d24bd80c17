// End-to-end tuning of a quantized language model against its float original
// (docs/quantization.md, "Tuning the scales end to end"): GPTQ fits each linear layer alone; this
// pass then moves every group scale of the quantized weights (and, optionally, the float RMSNorm
// gains) by gradient descent on the mean KL divergence KL(float model || quantized model) of the
// next-token distributions over the calibration windows, through the whole network
// (runtime_ref/backward.h). Codes and zero points stay as they are, so the bits per weight do not
// change; scales stay f16 and gains keep their dtype (every forward uses the rounded values).
//
// Parameters are logarithmic (s = s0 exp(theta), g = g0 exp(phi)): a step is a relative change and
// signs never flip. Adam (beta 0.9 / 0.999) with a cosine-decayed learning rate, over `epochs`
// passes of the windows in order, `batch_windows` windows per step. Windows of a step run in
// parallel on `threads`; their gradients are added in window order, so the result is the same at
// any thread count.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/model.h"
#include "runtime_ref/interpreter.h"

namespace edgepack {

struct quant_tune_options {
  int64_t epochs = 0;           // passes over the windows (0: nothing to do)
  double learning_rate = 2e-3;  // Adam step on the log-parameters at the start of the schedule
  int64_t batch_windows = 8;    // windows per step
  bool norms = true;            // tune the RMSNormalization gains too
  // The codes' learning rate relative to the scales' one: latent values u (code units) stepped
  // straight-through, code = round(u) + z. 0 keeps the codes.
  double code_rate_factor = 10.0;
  int threads = 0;
  // The float model's logits of every window are kept when they fit in this many bytes, else
  // recomputed at every step (one more forward pass per window; memory stays one window's worth).
  uint64_t teacher_cache_bytes = uint64_t{1} << 30;
  // After each step: (steps done, steps in all, mean KL of this step's windows before the step).
  std::function<void(int64_t, int64_t, double)> progress;
};

struct quant_tune_result {
  std::map<std::string, tensor> weights;  // every tuned tensor: quantized ones with new scales, gains
  double kl_first_epoch = 0, kl_last_epoch = 0;  // mean calibration KL over each epoch's steps
  int64_t steps = 0, scales = 0, gains = 0;
};

// `float_model`: the original (its graph must output "logits" [1, seq, vocab], as LLM graphs do).
// `quantized`: name -> quantized tensor replacing that weight. `windows`: the model inputs of each
// calibration window. The tensors of `quantized` that are quantized and not sparse are tuned.
Expected<quant_tune_result> tune_quantized_model(const model& float_model, const std::map<std::string, tensor>& quantized,
                                                 const std::vector<tensor_map>& windows, const quant_tune_options& options);

}  // namespace edgepack
