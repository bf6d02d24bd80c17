#include "calibration/hessian.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <string>

#include "core/parallel.h"

namespace edgepack {

namespace {

using row_matrix_f = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using const_rows_map = Eigen::Map<const row_matrix_f, 0, Eigen::OuterStride<>>;

struct tile_index {
  int64_t i = 0;  // tile row (I)
  int64_t j = 0;  // tile column (J <= I)
};

}  // namespace

hessian_accumulator::hessian_accumulator(int64_t dim, hessian_options options)
    : dim_(std::max<int64_t>(dim, 0)), options_(options), sum_(static_cast<size_t>(dim_ * dim_), 0.0) {
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
    for (int64_t j = 0; j <= i; ++j) work.push_back({i, j});
  const const_rows_map xs(x, rows, dim_, Eigen::OuterStride<>(dim_));
  parallel_for(static_cast<int64_t>(work.size()), options_.threads, [&](int64_t begin, int64_t end) {
    row_matrix_f product;
    for (int64_t w = begin; w < end; ++w) {
      const tile_index& tile = work[static_cast<size_t>(w)];
      const int64_t i0 = tile.i * t, j0 = tile.j * t;
      const int64_t ni = std::min(t, dim_ - i0), nj = std::min(t, dim_ - j0);
      product.noalias() = xs.middleCols(i0, ni).transpose() * xs.middleCols(j0, nj);
      for (int64_t a = 0; a < ni; ++a) {
        double* dst = sum_.data() + (i0 + a) * dim_ + j0;
        const float* src = product.data() + a * nj;
        // Diagonal tiles: only the lower triangle (b <= i0 + a) is kept.
        const int64_t limit = tile.i == tile.j ? a + 1 : nj;
        for (int64_t b = 0; b < limit; ++b) dst[b] += static_cast<double>(src[b]);
      }
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
