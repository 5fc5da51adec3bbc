// cmd_plot.cpp — `rwkv plot RUN_DIR|metrics.jsonl [...] -o OUT.svg|OUT.html`: training curves
// of one or more runs (one panel per metric, one line per run), optionally over reference
// trajectories (--ref trajectory.json). The work is in src/plot/.
#include <fmt/format.h>

#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "core/error.h"
#include "plot/svg_plot.h"

static int run(int argc, char** argv) {
  std::vector<std::string> inputs, refs;
  std::string out, metrics;
  rwkv::plot::PlotOptions o;
  CLI::App app{"Plot training curves (loss, lr, grad norm, tokens/s) of runs as SVG or HTML, offline."};
  app.add_option("runs", inputs, "run folders (--proj_dir of `rwkv train`) or metrics.jsonl files")->required();
  app.add_option("-o,--out", out, "output: .svg (self-contained) or .html (SVG + hover readout)")->required();
  app.add_option("--x", o.x, "x axis: step, tokens or time (seconds of training)")->capture_default_str();
  app.add_option("--smooth", o.smooth, "EMA span in points for the bold line (0: none)")->capture_default_str();
  app.add_option("--metrics", metrics, "comma-separated panels (default: loss,lr,grad_norm,tokens_per_s)");
  app.add_option("--ref", refs, "reference trajectory.json (repeat --ref for more): dashed grey, band on the loss")
      ->allow_extra_args(false)
      ->take_all();
  app.add_option("--ref_band", o.ref_band, "half-width of the band around a reference's smoothed loss")->capture_default_str();
  app.add_option("--max_points", o.max_points, "longer lines keep every k-th point")->capture_default_str();
  app.add_option("--title", o.title, "title (default: training curves)");
  int code = 0;
  if (!rwkv::cli::parse(app, argc, argv, &code)) return code;

  std::stringstream ss(metrics);
  for (std::string m; std::getline(ss, m, ',');)
    if (!m.empty()) o.metrics.push_back(m);
  std::vector<rwkv::plot::Series> runs, ref_series;
  for (auto& p : inputs) runs.push_back(rwkv::plot::read_run(p));
  for (auto& p : refs) ref_series.push_back(rwkv::plot::read_reference(p));
  rwkv::plot::write_plot(out, runs, ref_series, o);
  size_t n = 0;
  for (auto& r : runs) n += r.step.size();
  fmt::print("wrote {}: {} run(s), {} step(s), {} reference(s)\n", out, runs.size(), n, ref_series.size());
  return 0;
}

static rwkv::cli::Command reg{"plot", "plot training curves of runs (SVG or HTML, offline)", run};
