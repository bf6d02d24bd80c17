#include "runtime_ref/kernel_threads.h"

#include <atomic>

#include "core/parallel.h"

namespace edgepack {

static std::atomic<int> configured_threads{1};

void set_kernel_threads(int threads) { configured_threads.store(resolve_thread_count(threads), std::memory_order_relaxed); }

int kernel_threads() { return configured_threads.load(std::memory_order_relaxed); }

}  // namespace edgepack
