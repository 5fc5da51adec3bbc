// svg_plot.h — loss / lr / grad-norm / tokens-per-second curves of training runs as one SVG
// (self-contained) or an HTML page (the SVG plus a hover readout in plain JS; no CDN, works
// offline). The SVG is written by hand as text: one panel per metric, one colour per run, raw
// values faint, their exponential moving average bold (wandb's debiased smoothing), reference
// trajectories dashed grey with a band on the loss. Used by `rwkv plot` and by `rwkv train`
// (curves.svg in the run folder).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "plot/run_metrics.h"

namespace rwkv::plot {

struct PlotOptions {
  std::string x = "step";             // x axis: step | tokens | time (seconds of training)
  int smooth = 20;                    // EMA span N (alpha = 2 / (N + 1)); <= 1: no smoothing
  std::vector<std::string> metrics;   // panels; empty: each of known_metrics() some run has
  double ref_band = 0.015;            // half-width of the band around a reference's smoothed loss
  size_t max_points = 2000;           // longer lines keep every k-th point (and the last)
  std::string title;                  // empty: "training curves"
};

// Checks the options against the data: the x axis name, every metric present in some run (else
// "[plot] <file>: no metric 'x' (it has: ...)"), smooth >= 0, max_points >= 2.
void check_options(const std::vector<Series>& runs, const PlotOptions& o);

std::string render_svg(const std::vector<Series>& runs, const std::vector<Series>& refs, const PlotOptions& o);
std::string render_html(const std::vector<Series>& runs, const std::vector<Series>& refs, const PlotOptions& o);

// Writes OUT.svg or OUT.html (chosen by the extension) atomically (temp file + rename).
void write_plot(const std::string& out, const std::vector<Series>& runs, const std::vector<Series>& refs,
                const PlotOptions& o);

// The trainer's picture: <proj_dir>/curves.svg from <proj_dir>/metrics.jsonl, default options.
// Returns false (writes nothing) when metrics.jsonl does not exist yet.
bool write_run_curves(const std::string& proj_dir);

}  // namespace rwkv::plot
