// Progress on stderr: a redrawn bar with ETA when stderr is a terminal, a plain line at every
// 10 % otherwise (CI logs; none for work done within 2 s), nothing with --quiet.
// EDGEPACK_PROGRESS=plain forces the plain lines, without the 2 s delay.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace edgepack::cli {

class progress_bar {
 public:
  progress_bar(std::string label, int64_t total);
  void update(int64_t done);
  void finish();

 private:
  std::string label_;
  int64_t total_;
  int last_decile_ = -1;
  bool tty_;
  double quiet_seconds_;  // plain lines start only after this much time
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace edgepack::cli
