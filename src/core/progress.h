// progress.h — progress for long jobs: on a terminal a redrawn line with rate and ETA,
// otherwise a plain line every few seconds. Writes to stderr.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace rwkv {

class Progress {
 public:
  // total <= 0: unknown total (no ETA). unit: "B" prints MB/s, anything else "<unit>/s".
  Progress(std::string label, double total, std::string unit);
  ~Progress();
  void update(double done, const std::string& extra = "");  // cheap; redraws at most 10×/s
  void finish(const std::string& extra = "");
  static bool stderr_is_tty();

 private:
  std::string label_, unit_;
  double total_, done_ = 0;
  bool tty_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_;
  void draw(bool final, const std::string& extra);
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "12s"

}  // namespace rwkv
