// svg_plot.cpp — see svg_plot.h. The SVG is plain text written by hand (no plotting library):
// <polyline> per line, <polygon> per band, <text> for ticks, labels and legend. Every line
// carries data-run / data-metric / data-kind / data-n so tests (and scripts) can read it back.
#include "plot/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/atomic_file.h"

namespace rwkv::plot {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double W = 960, ML = 84, MR = 28;   // width, left / right margin
constexpr double PH = 230, PT = 30, PB = 44;  // panel height, top (title) and bottom (x ticks) pads
const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                         "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};
const char* kRefColor = "#444444";
const char* kRefDash[] = {"6 3", "2 2", "10 3 2 3", "1 4"};  // references: grey, one dash pattern each

std::string esc(const std::string& s) {
  std::string r;
  for (char c : s) {
    switch (c) {
      case '&': r += "&amp;"; break;
      case '<': r += "&lt;"; break;
      case '>': r += "&gt;"; break;
      case '"': r += "&quot;"; break;
      case '\'': r += "&#39;"; break;
      default: r += c;
    }
  }
  return r;
}

bool log_scale(const std::string& m) { return m == "lr" || m == "grad_norm"; }

std::string axis_label(const std::string& m) {
  if (m == "loss") return "loss (nats/token)";
  if (m == "lr") return "learning rate (log scale)";
  if (m == "grad_norm") return "grad norm before clipping (log scale)";
  if (m == "tokens_per_s") return "tokens/s";
  return m;
}

std::string x_label(const std::string& x) {
  if (x == "tokens") return "tokens";
  if (x == "time") return "time (s of training)";
  return "step";
}

const std::vector<double>& x_of(const Series& s, const std::string& x) {
  return x == "tokens" ? s.tokens : x == "time" ? s.time_s : s.step;
}

// 1.5k, 2M, 0.001, 5e-05: short tick labels.
std::string fmt_num(double v) {
  double a = std::fabs(v);
  if (a >= 1e9) return fmt::format("{:g}G", v / 1e9);
  if (a >= 1e6) return fmt::format("{:g}M", v / 1e6);
  if (a >= 1e4) return fmt::format("{:g}k", v / 1e3);
  if (a < 1e-12) return "0";
  return fmt::format("{:.4g}", v);
}

// Ticks at 1, 2, 5 x 10^k covering [lo, hi] with about n of them.
std::vector<double> nice_ticks(double lo, double hi, int n) {
  double span = hi - lo, raw = span / n, mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag * (raw / mag < 1.5 ? 1 : raw / mag < 3.5 ? 2 : raw / mag < 7.5 ? 5 : 10);
  std::vector<double> t;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) t.push_back(std::fabs(v) < step * 1e-9 ? 0 : v);
  return t;
}

// Debiased EMA (as wandb / TensorBoard smooth): NaN in, NaN out, skipped in the average.
std::vector<double> ema(const std::vector<double>& v, int span) {
  if (span <= 1) return v;
  double w = 1.0 - 2.0 / (span + 1.0), last = 0, wn = 1;
  std::vector<double> r(v.size(), kNaN);
  for (size_t i = 0; i < v.size(); i++) {
    if (!std::isfinite(v[i])) continue;
    last = last * w + (1 - w) * v[i];
    wn *= w;
    r[i] = last / (1 - wn);
  }
  return r;
}

struct Line {  // one drawn line: finite points, decimated
  std::vector<double> x, y, s;  // x, raw y, smoothed y
};

Line make_line(const Series& sr, const std::string& xname, const std::string& m, int smooth, size_t max_points,
               bool logy) {
  Line l;
  auto it = sr.values.find(m);
  if (it == sr.values.end()) return l;
  const auto& xs = x_of(sr, xname);
  std::vector<double> y = it->second;
  if (logy)
    for (auto& v : y)
      if (!(v > 0)) v = kNaN;
  std::vector<double> sm = ema(y, smooth);
  std::vector<size_t> idx;
  for (size_t i = 0; i < y.size(); i++)
    if (std::isfinite(y[i]) && std::isfinite(xs[i])) idx.push_back(i);
  size_t stride = idx.size() > max_points ? (idx.size() + max_points - 2) / (max_points - 1) : 1;
  for (size_t k = 0; k < idx.size(); k++) {
    if (k % stride != 0 && k + 1 != idx.size()) continue;
    size_t i = idx[k];
    l.x.push_back(xs[i]), l.y.push_back(y[i]), l.s.push_back(sm[i]);
  }
  return l;
}

struct Panel {
  std::string metric;
  bool logy = false;
  double top = 0, y0 = 0, y1 = 0;  // pixel rows: panel top, plot area top / bottom
  double lo = 0, hi = 1;           // y domain (log10 when logy)
  std::vector<Line> runs, refs;
};

struct Layout {
  std::vector<Panel> panels;
  double xmin = 0, xmax = 1, x0 = ML, x1 = W - MR, height = 0, legend_h = 0;
  std::vector<std::pair<std::string, std::string>> legend;  // name, colour ("" = reference)
  std::vector<std::string> run_names, ref_names;
};

std::vector<std::string> panel_metrics(const std::vector<Series>& runs, const PlotOptions& o) {
  if (!o.metrics.empty()) return o.metrics;
  std::vector<std::string> m;
  for (auto& k : known_metrics())
    for (auto& r : runs)
      if (r.has(k)) {
        m.push_back(k);
        break;
      }
  return m;
}

Layout layout(const std::vector<Series>& runs, const std::vector<Series>& refs, const PlotOptions& o) {
  check_options(runs, o);
  Layout L;
  for (auto& r : runs) L.run_names.push_back(r.name);
  for (auto& r : refs) L.ref_names.push_back(r.name);
  // Legend rows: items flow left to right, about 8 px per character.
  double lx = ML, rows = 1;
  for (size_t i = 0; i < runs.size() + refs.size(); i++) {
    std::string name = i < runs.size() ? runs[i].name : refs[i - runs.size()].name;
    double w = 40 + 7.5 * double(name.size()) + 24;
    if (lx + w > W - MR && lx > ML) lx = ML, rows++;
    lx += w;
  }
  L.legend_h = 44 + 20 * rows;

  double xmin = INFINITY, xmax = -INFINITY;
  double top = L.legend_h;
  for (auto& m : panel_metrics(runs, o)) {
    Panel p;
    p.metric = m, p.logy = log_scale(m), p.top = top, p.y0 = top + PT, p.y1 = top + PH - PB;
    double lo = INFINITY, hi = -INFINITY;
    auto grow = [&](const Line& l, double band) {
      for (size_t i = 0; i < l.x.size(); i++) {
        xmin = std::min(xmin, l.x[i]), xmax = std::max(xmax, l.x[i]);
        double a = p.logy ? std::log10(l.y[i]) : l.y[i] - band, b = p.logy ? a : l.y[i] + band;
        lo = std::min(lo, a), hi = std::max(hi, b);
      }
    };
    for (auto& r : runs) p.runs.push_back(make_line(r, o.x, m, o.smooth, o.max_points, p.logy)), grow(p.runs.back(), 0);
    for (auto& r : refs)
      p.refs.push_back(make_line(r, o.x, m, o.smooth, o.max_points, p.logy)), grow(p.refs.back(), m == "loss" ? o.ref_band : 0);
    if (!std::isfinite(lo)) lo = p.logy ? -1 : 0, hi = lo + 1;
    if (p.logy) {
      lo = std::floor(lo - 1e-9), hi = std::ceil(hi + 1e-9);
      if (hi - lo < 1) hi = lo + 1;
    } else {
      double pad = hi > lo ? (hi - lo) * 0.05 : std::max(1e-6, std::fabs(hi) * 0.05 + 1e-6);
      lo -= pad, hi += pad;
    }
    p.lo = lo, p.hi = hi;
    L.panels.push_back(std::move(p));
    top += PH;
  }
  if (!std::isfinite(xmin)) xmin = 0, xmax = 1;
  if (xmax <= xmin) xmax = xmin + 1;
  L.xmin = xmin, L.xmax = xmax, L.height = top + 8;
  return L;
}

double px(const Layout& L, double x) { return L.x0 + (x - L.xmin) / (L.xmax - L.xmin) * (L.x1 - L.x0); }
double py(const Panel& p, double y) {
  double v = p.logy ? std::log10(y) : y;
  return p.y1 - (v - p.lo) / (p.hi - p.lo) * (p.y1 - p.y0);
}

std::string points(const Layout& L, const Panel& p, const std::vector<double>& x, const std::vector<double>& y) {
  std::string s;
  for (size_t i = 0; i < x.size(); i++) {
    if (!std::isfinite(y[i])) continue;
    if (!s.empty()) s += ' ';
    s += fmt::format("{:.1f},{:.1f}", px(L, x[i]), py(p, y[i]));
  }
  return s;
}

size_t finite_count(const std::vector<double>& v) {
  return size_t(std::count_if(v.begin(), v.end(), [](double d) { return std::isfinite(d); }));
}

void draw_axes(std::string& o, const Layout& L, const Panel& p, const std::string& xname) {
  o += fmt::format("<text class=\"panel-title\" x=\"{}\" y=\"{:.1f}\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
                   ML, p.top + 18, esc(axis_label(p.metric)));
  o += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#fafafa\" stroke=\"#999\"/>\n",
                   L.x0, p.y0, L.x1 - L.x0, p.y1 - p.y0);
  // y ticks: 1, 2, 5 steps (linear) or decades, with 2 and 5 inside when few decades.
  std::vector<double> yt;
  if (p.logy) {
    for (double e = p.lo; e <= p.hi + 1e-9; e++) {
      yt.push_back(std::pow(10.0, e));
      if (p.hi - p.lo <= 2 && e < p.hi - 1e-9)
        for (double k : {2.0, 5.0}) yt.push_back(k * std::pow(10.0, e));
    }
  } else {
    yt = nice_ticks(p.lo, p.hi, 5);
  }
  for (double v : yt) {
    double y = py(p, v);
    if (y < p.y0 - 0.5 || y > p.y1 + 0.5) continue;
    o += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e0e0e0\"/>", L.x0, L.x1, y, y);
    o += fmt::format("<text class=\"ytick\" x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"end\">{}</text>\n",
                     L.x0 - 5, y + 4, esc(fmt_num(v)));
  }
  for (double v : nice_ticks(L.xmin, L.xmax, 8)) {
    double x = px(L, v);
    o += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e0e0e0\"/>", x, x, p.y0, p.y1);
    o += fmt::format("<text class=\"xtick\" x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\n",
                     x, p.y1 + 15, esc(fmt_num(v)));
  }
  o += fmt::format("<text class=\"xlabel\" x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"middle\">{}</text>\n",
                   (L.x0 + L.x1) / 2, p.y1 + 32, esc(x_label(xname)));
  double cy = (p.y0 + p.y1) / 2;
  o += fmt::format("<text class=\"ylabel\" x=\"16\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"middle\" "
                   "transform=\"rotate(-90 16 {:.1f})\">{}</text>\n",
                   cy, cy, esc(p.metric));
}

std::string svg_body(const Layout& L, const PlotOptions& opt) {
  std::string o;
  std::string title = opt.title.empty() ? "training curves" : opt.title;
  o += fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"rwkv-plot\" width=\"{}\" height=\"{:.0f}\" "
                   "viewBox=\"0 0 {} {:.0f}\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n",
                   W, L.height, W, L.height);
  o += "<!-- rwkv plot: SVG written by hand as text (src/plot/svg_plot.cpp); raw values faint, EMA bold -->\n";
  o += fmt::format("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text class=\"title\" x=\"{}\" y=\"24\" "
                   "font-size=\"17\" font-weight=\"bold\">{}</text>\n",
                   ML, esc(title));
  o += fmt::format("<text x=\"{}\" y=\"24\" font-size=\"11\" fill=\"#666\" text-anchor=\"end\">x: {} · EMA span {}</text>\n",
                   W - MR, esc(x_label(opt.x)), opt.smooth);
  // Legend.
  double lx = ML, ly = 48;
  for (size_t i = 0; i < L.run_names.size() + L.ref_names.size(); i++) {
    bool ref = i >= L.run_names.size();
    std::string name = ref ? L.ref_names[i - L.run_names.size()] : L.run_names[i];
    std::string col = ref ? kRefColor : kColors[i % 10];
    double w = 40 + 7.5 * double(name.size()) + 24;
    if (lx + w > W - MR && lx > ML) lx = ML, ly += 20;
    o += fmt::format("<g class=\"legend-item\" data-run=\"{}\" data-color=\"{}\"><line x1=\"{:.1f}\" x2=\"{:.1f}\" "
                     "y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"3\"{}/><text x=\"{:.1f}\" y=\"{:.1f}\" "
                     "font-size=\"13\">{}</text></g>\n",
                     esc(name), col, lx, lx + 30, ly - 4, ly - 4, col,
                     ref ? fmt::format(" stroke-dasharray=\"{}\"", kRefDash[(i - L.run_names.size()) % 4]) : "",
                     lx + 36, ly, esc(name));
    lx += w;
  }
  for (size_t pi = 0; pi < L.panels.size(); pi++) {
    const Panel& p = L.panels[pi];
    o += fmt::format("<g class=\"panel\" data-metric=\"{}\" data-scale=\"{}\">\n", esc(p.metric), p.logy ? "log" : "linear");
    draw_axes(o, L, p, opt.x);
    o += fmt::format("<clipPath id=\"clip{}\"><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"/></clipPath>\n",
                     pi, L.x0, p.y0, L.x1 - L.x0, p.y1 - p.y0);
    o += fmt::format("<g clip-path=\"url(#clip{})\">\n", pi);
    for (size_t r = 0; r < p.refs.size(); r++) {
      const Line& l = p.refs[r];
      if (l.x.empty()) continue;
      std::string n = esc(L.ref_names[r]);
      if (p.metric == "loss" && opt.ref_band > 0) {
        std::vector<double> up(l.s), dn(l.s), xr(l.x);
        for (auto& v : up) v += opt.ref_band;
        for (auto& v : dn) v -= opt.ref_band;
        std::reverse(dn.begin(), dn.end()), std::reverse(xr.begin(), xr.end());
        o += fmt::format("<polygon data-run=\"{}\" data-metric=\"loss\" data-kind=\"band\" data-band=\"{}\" fill=\"#888\" "
                         "fill-opacity=\"0.22\" stroke=\"none\" points=\"{} {}\"/>\n",
                         n, opt.ref_band, points(L, p, l.x, up), points(L, p, xr, dn));
      }
      o += fmt::format("<polyline data-run=\"{}\" data-metric=\"{}\" data-kind=\"ref-raw\" data-n=\"{}\" fill=\"none\" "
                       "stroke=\"{}\" stroke-opacity=\"0.18\" stroke-width=\"1\" points=\"{}\"/>\n",
                       n, esc(p.metric), finite_count(l.y), kRefColor, points(L, p, l.x, l.y));
      o += fmt::format("<polyline data-run=\"{}\" data-metric=\"{}\" data-kind=\"ref\" data-n=\"{}\" fill=\"none\" "
                       "stroke=\"{}\" stroke-width=\"1.6\" stroke-dasharray=\"{}\" points=\"{}\"/>\n",
                       n, esc(p.metric), finite_count(l.s), kRefColor, kRefDash[r % 4], points(L, p, l.x, l.s));
    }
    for (size_t r = 0; r < p.runs.size(); r++) {
      const Line& l = p.runs[r];
      std::string n = esc(L.run_names[r]), col = kColors[r % 10];
      std::string steps = l.x.empty() ? "" : fmt::format(" data-x-first=\"{}\" data-x-last=\"{}\"", l.x.front(), l.x.back());
      o += fmt::format("<polyline data-run=\"{}\" data-metric=\"{}\" data-kind=\"raw\" data-n=\"{}\"{} fill=\"none\" "
                       "stroke=\"{}\" stroke-opacity=\"0.3\" stroke-width=\"1\" points=\"{}\"/>\n",
                       n, esc(p.metric), finite_count(l.y), steps, col, points(L, p, l.x, l.y));
      o += fmt::format("<polyline data-run=\"{}\" data-metric=\"{}\" data-kind=\"ema\" data-n=\"{}\" fill=\"none\" "
                       "stroke=\"{}\" stroke-width=\"2.2\" points=\"{}\"/>\n",
                       n, esc(p.metric), finite_count(l.s), col, points(L, p, l.x, l.s));
    }
    o += "</g>\n</g>\n";
  }
  o += "</svg>\n";
  return o;
}

// The hover readout: the drawn points as JSON, plain JS that finds the nearest point per line.
const char* kHoverJs = R"JS(
(function () {
  const D = JSON.parse(document.getElementById('plot-data').textContent);
  const svg = document.querySelector('svg.rwkv-plot');
  const ro = document.getElementById('readout');
  const NS = 'http://www.w3.org/2000/svg';
  const guide = document.createElementNS(NS, 'line');
  guide.setAttribute('stroke', '#333'); guide.setAttribute('stroke-dasharray', '2 2');
  guide.setAttribute('visibility', 'hidden'); svg.appendChild(guide);
  const fmt = v => (v === null || v === undefined) ? '-' : (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0)) ? v.toExponential(3) : (+v.toPrecision(5)).toString();
  function nearest(xs, x) {
    if (!xs.length) return -1;
    let lo = 0, hi = xs.length - 1;
    while (hi - lo > 1) { const m = (lo + hi) >> 1; if (xs[m] <= x) lo = m; else hi = m; }
    return Math.abs(xs[lo] - x) <= Math.abs(xs[hi] - x) ? lo : hi;
  }
  function hide() { ro.style.display = 'none'; guide.setAttribute('visibility', 'hidden'); }
  svg.addEventListener('mouseleave', hide);
  svg.addEventListener('mousemove', function (ev) {
    const pt = svg.createSVGPoint(); pt.x = ev.clientX; pt.y = ev.clientY;
    const p = pt.matrixTransform(svg.getScreenCTM().inverse());
    const panel = D.panels.find(q => p.y >= q.y0 && p.y <= q.y1 && p.x >= D.x0 && p.x <= D.x1);
    if (!panel) return hide();
    const xv = D.xmin + (p.x - D.x0) / (D.x1 - D.x0) * (D.xmax - D.xmin);
    const rows = [panel.metric + ' at ' + D.xname + ' ' + fmt(xv)];
    for (const s of panel.series) {
      const i = nearest(s.x, xv);
      if (i < 0) continue;
      rows.push(s.name + ': ' + fmt(s.y[i]) + ' (smoothed ' + fmt(s.s[i]) + ') at ' + D.xname + ' ' + fmt(s.x[i]));
    }
    ro.textContent = rows.join('\n');
    ro.style.display = 'block';
    const right = ev.pageX + 14 + ro.offsetWidth > window.scrollX + document.documentElement.clientWidth;
    ro.style.left = (right ? Math.max(0, ev.pageX - 14 - ro.offsetWidth) : ev.pageX + 14) + 'px';
    ro.style.top = (ev.pageY + 14) + 'px';
    guide.setAttribute('x1', p.x); guide.setAttribute('x2', p.x);
    guide.setAttribute('y1', panel.y0); guide.setAttribute('y2', panel.y1);
    guide.setAttribute('visibility', 'visible');
  });
})();
)JS";

nlohmann::json line_json(const std::string& name, const Line& l) {
  auto clean = [](const std::vector<double>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (double d : v) a.push_back(std::isfinite(d) ? nlohmann::json(d) : nlohmann::json());
    return a;
  };
  return {{"name", name}, {"x", clean(l.x)}, {"y", clean(l.y)}, {"s", clean(l.s)}};
}

}  // namespace

void check_options(const std::vector<Series>& runs, const PlotOptions& o) {
  if (o.x != "step" && o.x != "tokens" && o.x != "time")
    fail("plot", "--x {}: expected step, tokens or time", o.x);
  if (o.smooth < 0) fail("plot", "--smooth {}: must be >= 0 (0 or 1: no smoothing)", o.smooth);
  if (o.max_points < 2) fail("plot", "--max_points {}: must be >= 2", o.max_points);
  if (runs.empty()) fail("plot", "no run to plot");
  for (auto& m : o.metrics) {
    bool found = false;
    for (auto& r : runs) found |= r.has(m);
    if (found) continue;
    std::string have;
    for (auto& [k, v] : runs.front().values) have += (have.empty() ? "" : ", ") + k;
    fail("plot", "{}: no metric '{}' (it has: {})", runs.front().source, m, have);
  }
  if (panel_metrics(runs, o).empty()) fail("plot", "{}: none of the metrics loss, lr, grad_norm, tokens_per_s", runs.front().source);
}

std::string render_svg(const std::vector<Series>& runs, const std::vector<Series>& refs, const PlotOptions& o) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg_body(layout(runs, refs, o), o);
}

std::string render_html(const std::vector<Series>& runs, const std::vector<Series>& refs, const PlotOptions& o) {
  Layout L = layout(runs, refs, o);
  nlohmann::json d = {{"xname", o.x == "time" ? "time (s)" : o.x}, {"xmin", L.xmin}, {"xmax", L.xmax},
                      {"x0", L.x0}, {"x1", L.x1}, {"panels", nlohmann::json::array()}};
  for (auto& p : L.panels) {
    nlohmann::json s = nlohmann::json::array();
    for (size_t i = 0; i < p.runs.size(); i++) s.push_back(line_json(L.run_names[i], p.runs[i]));
    for (size_t i = 0; i < p.refs.size(); i++)
      if (!p.refs[i].x.empty()) s.push_back(line_json(L.ref_names[i], p.refs[i]));
    d["panels"].push_back({{"metric", p.metric}, {"y0", p.y0}, {"y1", p.y1}, {"series", s}});
  }
  std::string data = d.dump();
  for (size_t i = 0; (i = data.find("</", i)) != std::string::npos;) data.replace(i, 2, "<\\/");
  std::string title = o.title.empty() ? "training curves" : o.title;
  return fmt::format(
      "<!doctype html>\n<!-- rwkv plot: an SVG written by hand plus a hover readout in plain JS (no network) -->\n"
      "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>body{{margin:12px;background:#fff;"
      "font-family:sans-serif}} #readout{{position:absolute;display:none;background:rgba(255,255,255,.95);"
      "border:1px solid #888;padding:4px 8px;font:12px monospace;white-space:pre;pointer-events:none}}</style>"
      "</head>\n<body>\n{}<div id=\"readout\"></div>\n<script type=\"application/json\" id=\"plot-data\">{}</script>\n"
      "<script>{}</script>\n</body></html>\n",
      esc(title), svg_body(L, o), data, kHoverJs);
}

void write_plot(const std::string& out, const std::vector<Series>& runs, const std::vector<Series>& refs,
                const PlotOptions& o) {
  std::string ext = std::filesystem::path(out).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (ext == ".svg") return write_file_atomic(out, render_svg(runs, refs, o));
  if (ext == ".html" || ext == ".htm") return write_file_atomic(out, render_html(runs, refs, o));
  fail("plot", "-o {}: the output must end in .svg or .html", out);
}

bool write_run_curves(const std::string& proj_dir) {
  std::string m = proj_dir + "/metrics.jsonl";
  std::error_code ec;
  if (!std::filesystem::exists(m, ec) || std::filesystem::file_size(m, ec) == 0) return false;
  PlotOptions o;
  Series s = read_run(proj_dir);
  o.title = "rwkv train: " + s.name;
  write_plot(proj_dir + "/curves.svg", {s}, {}, o);
  return true;
}

}  // namespace rwkv::plot
