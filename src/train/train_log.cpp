// train_log.cpp — see train_log.h.
#include "train/train_log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "core/error.h"
#include "train/train_args.h"

namespace rwkv::train {

namespace {

int open_append(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) fail("train", "{}: cannot write: {}", path, std::strerror(errno));
  return fd;
}

// One write(2) per line, so lines of concurrent writers never interleave; a short write (a full
// disk, a file size limit) is cut back to the end of the last whole line and reported with its
// real cause, never a stale errno.
void write_line(int fd, const std::string& path, const std::string& s) {
  const off_t before = ::lseek(fd, 0, SEEK_END);
  errno = 0;
  const ssize_t n = ::write(fd, s.data(), s.size());
  if (n == ssize_t(s.size())) return;
  const int err = errno;
  if (n > 0 && before >= 0) (void)!::ftruncate(fd, before);  // best effort: drop the partial line
  if (n < 0) fail("train", "{}: write failed: {}", path, std::strerror(err));
  fail("train", "{}: write failed: only {} of {} bytes written ({}); the partial line was removed", path, n,
       s.size(), err == EFBIG ? "file size limit" : err ? std::strerror(err) : "disk full");
}

// JSON number for a double (finite: shortest round trip; NaN/Inf: null).
std::string jnum(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; }

}  // namespace

std::string python_now() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  std::tm tm{};
  time_t s = tv.tv_sec;
  localtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  if (tv.tv_usec == 0) return buf;  // Python omits zero microseconds
  return fmt::format("{}.{:06d}", buf, int(tv.tv_usec));
}

RunLogs::RunLogs(const std::string& proj_dir)
    : log_path_(proj_dir + "/train_log.txt"), metrics_path_(proj_dir + "/metrics.jsonl") {
  log_fd_ = open_append(log_path_);
  metrics_fd_ = open_append(metrics_path_);
}

RunLogs::~RunLogs() {
  if (log_fd_ >= 0) ::close(log_fd_);
  if (metrics_fd_ >= 0) ::close(metrics_fd_);
}

void RunLogs::new_run(const TrainArgs& args) {
  write_line(log_fd_, log_path_, fmt::format("NEW RUN {}\n{}\n", args.my_timestamp, args.vars_repr()));
}

void RunLogs::epoch_line(int64_t epoch, double loss, double lr, int64_t epoch_in_run) {
  write_line(log_fd_, log_path_,
             fmt::format("{} {:.6f} {:.4f} {:.8f} {} {}\n", epoch, loss, std::exp(loss), lr, python_now(), epoch_in_run));
}

void RunLogs::step_metrics(int64_t step, double loss, double lr, double gn, int64_t tokens, double tps,
                           double comm_wait_pct) {
  const std::string wait = comm_wait_pct >= 0 ? fmt::format(", \"comm_wait_pct\": {}", jnum(comm_wait_pct)) : "";
  write_line(metrics_fd_, metrics_path_,
             fmt::format("{{\"step\": {}, \"loss\": {}, \"lr\": {}, \"grad_norm\": {}, \"tokens\": {}, \"tokens_per_s\": {}{}}}\n",
                         step, jnum(loss), jnum(lr), jnum(gn), tokens, jnum(tps), wait));
}

}  // namespace rwkv::train
