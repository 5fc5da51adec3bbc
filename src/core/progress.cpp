// progress.cpp — see progress.h.
#include "core/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace rwkv {

bool Progress::stderr_is_tty() { return isatty(2) == 1; }

Progress::Progress(std::string label, double total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), tty_(stderr_is_tty()) {
  start_ = last_ = std::chrono::steady_clock::now();
}

Progress::~Progress() {
  if (!finished_ && tty_ && done_ > 0) std::fputc('\n', stderr);
}

std::string format_duration(double s) {
  if (s < 0 || s > 1e7) return "?";
  int t = int(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02d}m", t / 3600, (t / 60) % 60);
  if (t >= 60) return fmt::format("{}m{:02d}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

void Progress::update(double done, const std::string& extra) {
  done_ = done;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_).count();
  if (since < (tty_ ? 0.1 : 5.0)) return;
  last_ = now;
  draw(false, extra);
}

void Progress::finish(const std::string& extra) {
  if (finished_) return;
  draw(true, extra);
  finished_ = true;
}

void Progress::draw(bool final, const std::string& extra) {
  double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = el > 0 ? done_ / el : 0;
  std::string r = unit_ == "B" ? fmt::format("{:.1f} MB/s", rate / 1e6) : fmt::format("{:.1f} {}/s", rate, unit_);
  std::string amount = unit_ == "B" ? fmt::format("{:.1f} MB", done_ / 1e6) : fmt::format("{:.0f} {}", done_, unit_);
  std::string line = fmt::format("{}: {}", label_, amount);
  if (total_ > 0) line += fmt::format(" / {:.0f}% ", 100.0 * done_ / total_);
  line += fmt::format("  {}", r);
  if (total_ > 0 && !final && rate > 0) line += "  ETA " + format_duration((total_ - done_) / rate);
  if (final) line += "  in " + format_duration(el);
  if (!extra.empty()) line += "  " + extra;
  if (tty_) fmt::print(stderr, "\r\033[K{}{}", line, final ? "\n" : "");
  else fmt::print(stderr, "{}\n", line);
  std::fflush(stderr);
}

}  // namespace rwkv
