// Splits [0, count) into contiguous chunks run on `threads` std::threads. Work items must be
// independent; the split never changes results, so outputs are identical at any thread count.
#pragma once
#include <cstdint>
#include <functional>

namespace edgepack {

// threads <= 0 means std::thread::hardware_concurrency().
int resolve_thread_count(int threads);
void parallel_for(int64_t count, int threads, const std::function<void(int64_t begin, int64_t end)>& body);

}  // namespace edgepack
