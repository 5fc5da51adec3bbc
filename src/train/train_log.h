// train_log.h — the run's logs in --proj_dir: train_log.txt as RWKV-LM writes it ("NEW RUN
// <timestamp>" + the args dict, then per mini-epoch "<epoch> <loss:.6f> <exp(loss):.4f>
// <lr:.8f> <datetime.now()> <epoch in this run>") and metrics.jsonl, one JSON line per step
// {"step","loss","lr","grad_norm","tokens","tokens_per_s"[,"comm_wait_pct"]}. Lines are appended with one
// write(2) each, so a crash never leaves half a line.
#pragma once
#include <cstdint>
#include <string>

namespace rwkv::train {

struct TrainArgs;

class RunLogs {
 public:
  explicit RunLogs(const std::string& proj_dir);  // throws "[train] <file>: cannot write"
  ~RunLogs();
  RunLogs(const RunLogs&) = delete;
  RunLogs& operator=(const RunLogs&) = delete;

  void new_run(const TrainArgs& args);
  void epoch_line(int64_t epoch, double mean_loss, double lr, int64_t epoch_in_run);
  // comm_wait_pct >= 0 (several ranks): the share of the step this rank waited on communication.
  void step_metrics(int64_t step, double loss, double lr, double grad_norm, int64_t tokens, double tokens_per_s,
                    double comm_wait_pct = -1);

 private:
  int log_fd_ = -1, metrics_fd_ = -1;
  std::string log_path_, metrics_path_;
};

// Python's str(datetime.datetime.now()): "2026-11-23 06:14:13.123456".
std::string python_now();

}  // namespace rwkv::train
