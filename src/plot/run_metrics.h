// run_metrics.h — the numbers `rwkv plot` and the trainer's curves.svg draw: a run's
// metrics.jsonl (one JSON object per step, as train/train_log.cpp writes it) and reference
// trajectories (the fixtures' trajectory.json files). A step that comes again means the run was
// resumed from a checkpoint: the later lines replace the earlier ones from that step on, so a
// resumed run reads as one curve with no gap and no duplicate step.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rwkv::plot {

// One line per metric, indexed like `step`; NaN where a value is missing (JSON null).
struct Series {
  std::string name;                    // legend: the run folder's name, or "ref <file>"
  std::string source;                  // the file it was read from (for errors)
  std::vector<double> step, tokens, time_s;  // x axes; tokens/time_s NaN when unknown
  std::map<std::string, std::vector<double>> values;  // metric -> values
  bool has(const std::string& metric) const { return values.count(metric) != 0; }
};

// The metrics `rwkv train` logs, in panel order.
const std::vector<std::string>& known_metrics();

// RUN_DIR (reads RUN_DIR/metrics.jsonl) or a metrics.jsonl path. Legend name: the folder's
// name. Throws "[plot] <file>:<line>: ..." for an empty, truncated or non-object line, a line
// without an integer "step", or a file with no line at all; "[plot] <dir>: no metrics.jsonl".
// time_s is the sum of the steps' durations (tokens per step / tokens_per_s).
Series read_run(const std::string& path);

// A trajectory.json: a list of {"step", "loss", "lr", "grad_norm", ...} or an object with such
// a list under "steps" (and "model": {"ctx_len", "micro_bsz"} for the tokens axis).
Series read_reference(const std::string& path);

}  // namespace rwkv::plot
