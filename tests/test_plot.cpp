// test_plot.cpp — issue 24 (`rwkv plot`, curves.svg): reading metrics.jsonl (resumed runs read as
// one curve), bad input named by file and line, two runs overlaid, curves.svg after demo.sh and
// after a SIGKILLed-and-resumed run, and the HTML page checked in headless Chromium
// (tests/browser/plot_check.mjs) with a PNG screenshot under the build folder.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "data/binidx.h"
#include "data/magic_prime.h"
#include "plot/run_metrics.h"
#include "plot/svg_plot.h"
#include "test_util.h"

namespace fs = std::filesystem;
using rwkv::test::read_file;
using rwkv::test::run_cli;
using rwkv::test::TempDir;

namespace {

void write(const std::string& path, const std::string& s) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << s;
}

std::string metrics_line(int step, double loss) {
  return fmt::format("{{\"step\": {}, \"loss\": {}, \"lr\": 0.0006, \"grad_norm\": 1.5, \"tokens\": {}, \"tokens_per_s\": 1000}}\n",
                     step, loss, (step + 1) * 128);
}

// The one line of `svg` with data-run=run, data-metric=metric, data-kind=kind: its attributes.
struct SvgLine {
  int n = -1;
  std::vector<double> xs;
  std::string stroke;
  double x_first = -1, x_last = -1;
};
SvgLine svg_line(const std::string& svg, const std::string& run, const std::string& metric, const std::string& kind) {
  SvgLine r;
  std::string key = fmt::format("data-run=\"{}\" data-metric=\"{}\" data-kind=\"{}\"", run, metric, kind);
  size_t at = svg.find(key);
  if (at == std::string::npos) return r;
  std::string el = svg.substr(at, svg.find("/>", at) - at);
  std::smatch m;
  if (std::regex_search(el, m, std::regex("data-n=\"(\\d+)\""))) r.n = std::stoi(m[1]);
  if (std::regex_search(el, m, std::regex("data-x-first=\"([^\"]+)\""))) r.x_first = std::stod(m[1]);
  if (std::regex_search(el, m, std::regex("data-x-last=\"([^\"]+)\""))) r.x_last = std::stod(m[1]);
  if (std::regex_search(el, m, std::regex("stroke=\"(#[0-9a-f]+)\""))) r.stroke = m[1];
  std::regex_search(el, m, std::regex("points=\"([^\"]*)\""));
  std::string pts = m[1];
  std::regex pt("(-?[0-9.]+),(-?[0-9.]+)");
  for (auto it = std::sregex_iterator(pts.begin(), pts.end(), pt); it != std::sregex_iterator(); ++it)
    r.xs.push_back(std::stod((*it)[1]));
  return r;
}

bool strictly_increasing(const std::vector<double>& v) {
  for (size_t i = 1; i < v.size(); i++)
    if (!(v[i] > v[i - 1])) return false;
  return true;
}

// A tiny RWKV-7 (L1, D64, ctx 16) trained with `rwkv train` on the demo fixture's bytes.
struct TinyRun {
  std::string dir, common;
  uint64_t ctx, bsz;
  TinyRun(const std::string& d, uint64_t micro_bsz, uint64_t ctx_len = 16) : dir(d), ctx(ctx_len), bsz(micro_bsz) {
    std::string data = rwkv::test::fixture("traj-demo-L4-D256-bytes") + "/data";
    rwkv::BinidxReader reader(data);
    common = fmt::format("--proj_dir {} --data_file {} --data_type binidx --vocab_size 256 --ctx_len {} --micro_bsz {} "
                         "--n_layer 1 --n_embd 64 --head_size 64 --magic_prime {} --accelerator cpu --devices 1 --precision fp32",
                         dir, data, ctx, bsz, rwkv::magic_prime(reader.num_tokens(), ctx));
  }
  void init() {
    auto r = run_cli("train " + common + " --train_stage 1");
    ASSERT_EQ(r.status, 0) << r.err;
  }
  std::string stage3(int steps, double lr_init) const {
    return fmt::format("train {} --train_stage 3 --load_model {}/rwkv-init.pth --my_exit_tokens {} --epoch_save 1 "
                       "--lr_init {} --lr_final {} --warmup_steps 10",
                       common, dir, uint64_t(steps) * bsz * ctx, lr_init, lr_init / 10);
  }
  void train(int steps, double lr_init) {
    init();
    auto r = run_cli(stage3(steps, lr_init));
    ASSERT_EQ(r.status, 0) << r.err;
  }
};

std::string build_dir() { return fs::path(RWKV_BIN).parent_path().string(); }

// Runs tests/browser/plot_check.mjs on `html`; skips when Chromium is not installed.
void browser_check(const std::string& html, const std::string& png, const nlohmann::json& expect, std::string* out) {
  const char* env = std::getenv("CHROMIUM");
  std::string chromium = env ? env : "/usr/bin/chromium";
  if (!fs::exists(chromium)) GTEST_SKIP() << chromium << " is not installed (scripts/setup.sh installs Debian chromium)";
  std::string browser = std::string(RWKV_SOURCE_DIR) + "/tests/browser";
  ASSERT_TRUE(fs::exists(browser + "/node_modules/playwright-core"))
      << "tests/browser/node_modules/playwright-core is missing: run scripts/setup.sh (npm ci in tests/browser)";
  std::string ex = png + ".expect.json";
  write(ex, expect.dump());
  std::string log = png + ".log";
  int st = std::system(fmt::format("node {}/plot_check.mjs '{}' '{}' '{}' >'{}' 2>&1", browser, html, png, ex, log).c_str());
  *out = read_file(log);
  ASSERT_EQ(st, 0) << *out;
  ASSERT_TRUE(fs::exists(png));
}

}  // namespace

// ---- reading metrics.jsonl ----

TEST(Plot, ResumedRunReadsAsOneCurve) {
  TempDir d;
  std::string m;
  for (int s = 0; s < 20; s++) m += metrics_line(s, 5.0 - 0.1 * s);
  for (int s = 16; s < 24; s++) m += metrics_line(s, 1.0);  // resumed from the checkpoint after step 15
  write(d / "run-a/metrics.jsonl", m);
  rwkv::plot::Series s = rwkv::plot::read_run(d / "run-a");
  EXPECT_EQ(s.name, "run-a");
  ASSERT_EQ(s.step.size(), 24u);
  for (int i = 0; i < 24; i++) EXPECT_EQ(s.step[i], i);
  EXPECT_DOUBLE_EQ(s.values.at("loss")[15], 5.0 - 1.5);
  EXPECT_DOUBLE_EQ(s.values.at("loss")[16], 1.0);          // the resumed run's value wins
  EXPECT_NEAR(s.time_s[23], 24 * 128 / 1000.0, 1e-9);     // time: one duration per kept step
  EXPECT_EQ(s.tokens[23], 24 * 128);
}

TEST(Plot, BadInputNamesFileAndLine) {
  TempDir d;
  write(d / "empty-line/metrics.jsonl", metrics_line(0, 5) + "\n" + metrics_line(1, 4));
  EXPECT_NE(rwkv::test::error_of([&] { rwkv::plot::read_run(d / "empty-line"); })
                .find("empty-line/metrics.jsonl:2: empty line"), std::string::npos);
  write(d / "trunc/metrics.jsonl", metrics_line(0, 5) + metrics_line(1, 4) + "{\"step\": 2, \"loss\": 3.9");
  EXPECT_NE(rwkv::test::error_of([&] { rwkv::plot::read_run(d / "trunc"); })
                .find("trunc/metrics.jsonl:3: not a complete JSON object (truncated line?)"), std::string::npos);
  write(d / "nostep/metrics.jsonl", "{\"loss\": 3}\n");
  EXPECT_NE(rwkv::test::error_of([&] { rwkv::plot::read_run(d / "nostep"); }).find("nostep/metrics.jsonl:1: no integer \"step\""),
            std::string::npos);
  write(d / "zero/metrics.jsonl", "");
  EXPECT_NE(rwkv::test::error_of([&] { rwkv::plot::read_run(d / "zero"); }).find("zero/metrics.jsonl: empty file"),
            std::string::npos);
  fs::create_directories(d / "no-metrics");

  // The CLI: "rwkv plot: error: [plot] ...", exit 1.
  auto r = run_cli("plot " + d / "no-metrics" + " -o " + d / "x.svg");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("[plot] " + d / "no-metrics" + ": no metrics.jsonl in this folder"), std::string::npos) << r.err;
  r = run_cli("plot " + d / "trunc" + " -o " + d / "x.svg");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("trunc/metrics.jsonl:3:"), std::string::npos) << r.err;
  write(d / "good/metrics.jsonl", metrics_line(0, 5) + metrics_line(1, 4));
  r = run_cli("plot " + d / "good" + " -o " + d / "x.svg --metrics loss,perplexity");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("good/metrics.jsonl: no metric 'perplexity' (it has: grad_norm, loss, lr, tokens_per_s)"),
            std::string::npos) << r.err;
  r = run_cli("plot " + d / "good" + " -o " + d / "x.png");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("must end in .svg or .html"), std::string::npos) << r.err;
  r = run_cli("plot " + d / "good" + " -o " + d / "x.svg --x epochs");
  EXPECT_NE(r.err.find("--x epochs: expected step, tokens or time"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d / "x.svg"));
  r = run_cli("plot " + d / "good" + " -o " + d / "x.svg --ref " + d / "good/metrics.jsonl");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("good/metrics.jsonl: not valid JSON"), std::string::npos) << r.err;
}

TEST(Plot, SvgPanelsAxesAndSmoothing) {
  TempDir d;
  std::string m;
  for (int s = 0; s < 50; s++) m += metrics_line(s, s % 2 ? 3.0 : 2.0);
  write(d / "zig/metrics.jsonl", m);
  auto r = run_cli("plot " + d / "zig" + " -o " + d / "z.svg --x tokens --smooth 9 --max_points 10");
  ASSERT_EQ(r.status, 0) << r.err;
  std::string svg = read_file(d / "z.svg");
  EXPECT_EQ(svg.rfind("</svg>\n"), svg.size() - 7);
  for (const char* m : {"loss", "lr", "grad_norm", "tokens_per_s"})
    EXPECT_NE(svg.find(fmt::format("class=\"panel\" data-metric=\"{}\"", m)), std::string::npos) << m;
  EXPECT_NE(svg.find("data-metric=\"lr\" data-scale=\"log\""), std::string::npos);
  EXPECT_NE(svg.find(">tokens</text>"), std::string::npos);  // x axis label
  SvgLine raw = svg_line(svg, "zig", "loss", "raw");
  EXPECT_EQ(raw.n, 10);                                       // decimated to --max_points
  EXPECT_EQ(raw.xs.size(), 10u);
  EXPECT_EQ(raw.x_last, 50 * 128);                            // the last point is always kept
  EXPECT_TRUE(strictly_increasing(raw.xs));
  // --x time: seconds of training, the sum of tokens per step / tokens_per_s (128 / 1000 here);
  // a --ref before a run folder takes one file only.
  r = run_cli("plot --ref " + rwkv::test::fixture("traj-demo-L4-D256-bytes/trajectory.json") + " " + d / "zig" + " -o " +
              d / "t.svg --x time --metrics loss");
  ASSERT_EQ(r.status, 0) << r.err;
  std::string svgt = read_file(d / "t.svg");
  EXPECT_NE(svgt.find(">time (s of training)</text>"), std::string::npos);
  EXPECT_NEAR(svg_line(svgt, "zig", "loss", "raw").x_last, 50 * 0.128, 1e-9);
  EXPECT_EQ(svgt.find("data-metric=\"lr\""), std::string::npos);  // only the panels asked for
  // The EMA of a 2/3 zig-zag settles near 2.5: the bold line stays inside the middle of the panel.
  rwkv::plot::PlotOptions o;
  o.smooth = 9;
  auto s = rwkv::plot::read_run(d / "zig");
  std::string svg2 = rwkv::plot::render_svg({s}, {}, o);
  EXPECT_EQ(svg_line(svg2, "zig", "loss", "ema").n, 50);
}

// Acceptance 2: two runs with different --lr_init, overlaid.
TEST(Plot, TwoRunsDifferentLrOverlaid) {
  TempDir d;
  TinyRun a(d / "lr1e-3", 8), b(d / "lr2e-4", 8);
  ASSERT_NO_FATAL_FAILURE(a.train(40, 1e-3));
  ASSERT_NO_FATAL_FAILURE(b.train(40, 2e-4));
  std::string html = d / "two.html";
  auto r = run_cli(fmt::format("plot {} {} -o {} --title 'lr_init 1e-3 vs 2e-4'", a.dir, b.dir, html));
  ASSERT_EQ(r.status, 0) << r.err;
  std::string page = read_file(html);
  SvgLine la = svg_line(page, "lr1e-3", "loss", "raw"), lb = svg_line(page, "lr2e-4", "loss", "raw");
  EXPECT_EQ(la.n, 40);
  EXPECT_EQ(lb.n, 40);
  EXPECT_NE(la.stroke, lb.stroke);
  EXPECT_NE(svg_line(page, "lr1e-3", "lr", "raw").xs, std::vector<double>{});
  nlohmann::json expect = {{"runs", {{"lr1e-3", {{"loss", 40}, {"lr", 40}}}, {"lr2e-4", {{"loss", 40}, {"lr", 40}}}}},
                           {"x_label", "step"},
                           {"panels", {"loss", "lr", "grad_norm", "tokens_per_s"}}};
  std::string out;
  ASSERT_NO_FATAL_FAILURE(browser_check(html, build_dir() + "/plot_two_runs.png", expect, &out));
  if (IsSkipped()) return;
  std::cout << out;
}

// Acceptance 1: a run plotted over the fixtures' official trajectory, in headless Chromium.
TEST(Plot, BrowserRunOverReferenceTrajectory) {
  TempDir d;
  TinyRun a(d / "tiny-demo", 8);
  ASSERT_NO_FATAL_FAILURE(a.train(300, 6e-4));
  std::string html = d / "demo.html";
  std::string ref = rwkv::test::fixture("traj-demo-L4-D256-bytes/trajectory.json");
  auto r = run_cli(fmt::format("plot {} -o {} --ref {}", a.dir, html, ref));
  ASSERT_EQ(r.status, 0) << r.err;
  std::string svg_ref = "ref traj-demo-L4-D256-bytes/trajectory.json";
  nlohmann::json expect = {
      {"runs", {{"tiny-demo", {{"loss", 300}, {"lr", 300}, {"grad_norm", 300}, {"tokens_per_s", 300}}}}},
      {"refs", {{svg_ref, {{"loss", 300}, {"lr", 300}, {"grad_norm", 300}}}}},
      {"x_label", "step"},
      {"panels", {"loss", "lr", "grad_norm", "tokens_per_s"}}};
  std::string out;
  ASSERT_NO_FATAL_FAILURE(browser_check(html, build_dir() + "/plot_demo_vs_reference.png", expect, &out));
  if (IsSkipped()) return;
  std::cout << out;
  EXPECT_NE(out.find("plot_check: OK 2 legend entries, 4 panels"), std::string::npos) << out;
}

// Acceptance 3a: scripts/demo.sh leaves curves.svg in its run folder.
TEST(Plot, DemoScriptWritesCurves) {
  TempDir d;
  std::string cmd = fmt::format("cd {} && DEMO_OUT={} DEMO_STEPS=12 RWKV_BUILD_DIR={} bash scripts/demo.sh >{} 2>&1",
                                RWKV_SOURCE_DIR, d / "demo", build_dir(), d / "demo.log");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_file(d / "demo.log");
  std::string svg = read_file(d / "demo/curves.svg");
  EXPECT_EQ(svg_line(svg, "demo", "loss", "raw").n, 12);  // (my_exit_tokens inside warmup exits at once)
  EXPECT_EQ(svg.rfind("</svg>\n"), svg.size() - 7);
}

// Acceptance 3b: SIGKILL after the first checkpoint, resume: one curve, no gap, no duplicate.
TEST(Plot, CurvesSurviveSigkillAndResume) {
  TempDir d;
  TinyRun run(d / "out", 2520, 4);  // 16 steps per mini-epoch: rwkv-0.pth + curves.svg after step 15
  ASSERT_NO_FATAL_FAILURE(run.init());
  std::string cmd = std::string(RWKV_BIN) + " " + run.stage3(24, 1e-3);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string sh = "exec " + cmd + " >" + d / "run1.log" + " 2>&1";
    execl("/bin/sh", "sh", "-c", sh.c_str(), (char*)nullptr);
    _exit(127);
  }
  auto t0 = std::chrono::steady_clock::now();
  bool killed = false;
  auto lines = [&] {
    std::ifstream f(d / "out/metrics.jsonl");
    int n = 0;
    for (std::string l; std::getline(f, l);) n++;
    return n;
  };
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(300)) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) break;
    if (fs::exists(d / "out/curves.svg") && lines() >= 19) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      killed = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(killed) << read_file(d / "run1.log");
  int before = lines();
  ASSERT_LT(before, 24) << "killed too late";
  std::string svg1 = read_file(d / "out/curves.svg");  // written at epoch_save: steps 0..15
  EXPECT_EQ(svg1.rfind("</svg>\n"), svg1.size() - 7);
  EXPECT_EQ(svg_line(svg1, "out", "loss", "raw").n, 16);

  auto r = run_cli(run.stage3(24, 1e-3));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(), before + 8);  // metrics.jsonl holds steps 16.. twice
  std::string svg2 = read_file(d / "out/curves.svg");
  SvgLine l = svg_line(svg2, "out", "loss", "raw");
  EXPECT_EQ(l.n, 24);
  EXPECT_EQ(l.x_first, 0);
  EXPECT_EQ(l.x_last, 23);
  EXPECT_TRUE(strictly_increasing(l.xs));
  for (auto& e : fs::directory_iterator(d / "out"))
    EXPECT_EQ(e.path().filename().string().find("curves.svg.tmp"), std::string::npos) << e.path();

  // --plot 0: no picture.
  TinyRun off(d / "off", 8);
  off.init();
  r = run_cli(off.stage3(3, 1e-3) + " --plot 0");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::exists(d / "off/metrics.jsonl"));
  EXPECT_FALSE(fs::exists(d / "off/curves.svg"));
}
