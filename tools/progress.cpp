#include "tools/progress.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tools/cli_common.h"

namespace edgepack::cli {

namespace {
// EDGEPACK_PROGRESS=plain: always the plain decile lines, also for short work and on a terminal
// (log scrapers, and the tests that check every long command reports progress).
bool plain_progress_forced() {
  const char* mode = std::getenv("EDGEPACK_PROGRESS");
  return mode != nullptr && std::string_view(mode) == "plain";
}
}  // namespace

progress_bar::progress_bar(std::string label, int64_t total)
    : label_(std::move(label)),
      total_(total),
      tty_(::isatty(STDERR_FILENO) != 0 && !plain_progress_forced()),
      quiet_seconds_(plain_progress_forced() ? 0.0 : 2.0),
      start_(std::chrono::steady_clock::now()) {}

void progress_bar::update(int64_t done) {
  if (globals().quiet || total_ <= 0) return;
  const double fraction = static_cast<double>(done) / static_cast<double>(total_);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
  if (tty_) {
    const int width = 30;
    const int filled = static_cast<int>(fraction * width);
    std::fprintf(stderr, "\r%s [%.*s%*s] %3d%% %lld/%lld  ETA %.0fs ", label_.c_str(), filled, "##############################", width - filled, "",
                 static_cast<int>(fraction * 100), static_cast<long long>(done), static_cast<long long>(total_), eta);
    std::fflush(stderr);
  } else {
    // CI logs: one line per 10 %, and none at all for work that finishes within two seconds.
    const int decile = static_cast<int>(fraction * 10);
    if (decile != last_decile_ && elapsed >= quiet_seconds_) {
      last_decile_ = decile;
      std::fprintf(stderr, "%s: %d%% (%lld/%lld, %.1fs elapsed, ETA %.0fs)\n", label_.c_str(), decile * 10, static_cast<long long>(done),
                   static_cast<long long>(total_), elapsed, eta);
    }
  }
}

void progress_bar::finish() {
  if (finished_) return;
  finished_ = true;
  if (!globals().quiet && tty_) std::fprintf(stderr, "\n");
}

}  // namespace edgepack::cli
