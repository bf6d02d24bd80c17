#include "calibration/hessian.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>

#include "core/parallel.h"

namespace edgepack {

namespace {

struct tile_index {
  int64_t i = 0;  // tile row (I)
  int64_t j = 0;  // tile column (J <= I)
  int64_t cost = 0;  // multiply-adds, for scheduling only
};

}  // namespace

hessian_accumulator::hessian_accumulator(int64_t dim, hessian_options options)
    : dim_(std::max<int64_t>(dim, 0)), options_(options), kernel_(resolve_syrk_isa(options.kernel)), sum_(static_cast<size_t>(dim_ * dim_), 0.0) {
  options_.tile = std::max<int64_t>(options_.tile, 16);
  options_.flush_rows = std::max<int64_t>(options_.flush_rows, 1);
}

Status hessian_accumulator::add_rows(const float* x, int64_t rows) {
  if (rows < 0) return bad_usage("negative row count");
  if (rows == 0 || dim_ == 0) {
    count_ += rows;
    return {};
  }
  const int64_t total = rows * dim_;
  for (int64_t k = 0; k < total; ++k)
    if (!std::isfinite(x[k])) return bad_input("calibration row " + std::to_string(count_ + k / dim_) + " holds NaN or Inf");
  for (int64_t r = 0; r < rows; r += options_.flush_rows) add_block(x + r * dim_, std::min(options_.flush_rows, rows - r));
  count_ += rows;
  return {};
}

void hessian_accumulator::add_block(const float* x, int64_t rows) {
  const int64_t t = options_.tile;
  const int64_t tiles = (dim_ + t - 1) / t;
  std::vector<tile_index> work;
  work.reserve(static_cast<size_t>(tiles * (tiles + 1) / 2));
  for (int64_t i = 0; i < tiles; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      const int64_t ni = std::min(t, dim_ - i * t), nj = std::min(t, dim_ - j * t);
      work.push_back({i, j, i == j ? ni * (nj + 1) / 2 : ni * nj});
    }
  // Largest tiles first (full off-diagonal tiles, then diagonal and edge tiles), each taken by the
  // next free thread: the uneven triangle balances to within one small tile. The order and the
  // thread change no result, only the schedule.
  std::stable_sort(work.begin(), work.end(), [](const tile_index& l, const tile_index& r) { return l.cost > r.cost; });
  const int workers = static_cast<int>(std::min<int64_t>(resolve_thread_count(options_.threads), static_cast<int64_t>(work.size())));
  std::atomic<int64_t> next{0};
  parallel_for(workers, workers, [&](int64_t, int64_t) {
    syrk_workspace ws;
    for (int64_t w = next.fetch_add(1); w < static_cast<int64_t>(work.size()); w = next.fetch_add(1)) {
      const tile_index& tile = work[static_cast<size_t>(w)];
      const int64_t i0 = tile.i * t, j0 = tile.j * t;
      const syrk_tile_spec spec{.i0 = i0, .ni = std::min(t, dim_ - i0), .j0 = j0, .nj = std::min(t, dim_ - j0), .lower_only = tile.i == tile.j};
      syrk_tile_add(kernel_, x, rows, dim_, spec, sum_.data(), dim_, ws);
    }
  });
}

std::vector<double> hessian_accumulator::hessian() const {
  std::vector<double> h(sum_.size(), 0.0);
  if (count_ == 0) return h;
  const double scale = 2.0 / static_cast<double>(count_);
  for (int64_t i = 0; i < dim_; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      const double v = sum_[static_cast<size_t>(i * dim_ + j)] * scale;
      h[static_cast<size_t>(i * dim_ + j)] = v;
      h[static_cast<size_t>(j * dim_ + i)] = v;
    }
  return h;
}

}  // namespace edgepack
