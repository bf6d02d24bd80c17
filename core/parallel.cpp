#include "core/parallel.h"

#include <algorithm>
#include <thread>
#include <vector>

namespace edgepack {

int resolve_thread_count(int threads) {
  if (threads > 0) return threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

void parallel_for(int64_t count, int threads, const std::function<void(int64_t, int64_t)>& body) {
  const int64_t workers = std::min<int64_t>(resolve_thread_count(threads), count);
  if (workers <= 1) {
    if (count > 0) body(0, count);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(workers - 1));
  const int64_t chunk = (count + workers - 1) / workers;
  for (int64_t w = 1; w < workers; ++w) {
    const int64_t begin = w * chunk, end = std::min(count, begin + chunk);
    if (begin < end) pool.emplace_back([&body, begin, end] { body(begin, end); });
  }
  body(0, std::min(count, chunk));
  for (auto& t : pool) t.join();
}

}  // namespace edgepack
