// runs_view.cpp — the routes and the page of the runs view (see runs_view.h).
#include "serve/runs_view.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "plot/run_metrics.h"
#include "plot/svg_plot.h"
#include "serve/openai_api.h"

namespace rwkv {

namespace fs = std::filesystem;

std::vector<std::string> list_runs(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (fs::exists(fs::path(dir) / "metrics.jsonl", ec)) out.push_back(".");
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory(ec) && fs::exists(e.path() / "metrics.jsonl", ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// The folder of run `name` under dir; 404 when it is not one of list_runs (no path tricks).
std::string run_dir(const std::string& dir, const std::string& name) {
  const auto runs = list_runs(dir);
  if (std::find(runs.begin(), runs.end(), name) == runs.end())
    throw ApiError(404, "run", "no run '" + name + "' under the --runs folder", "run_not_found");
  return name == "." ? dir : (fs::path(dir) / name).string();
}

}  // namespace

void add_runs_routes(httplib::Server& svr, const std::string& dir, const bool* stop) {
  svr.Get("/v1/runs", [dir](const httplib::Request&, httplib::Response& res) {
    nlohmann::json data = nlohmann::json::array();
    for (const std::string& r : list_runs(dir)) data.push_back({{"id", r}, {"object", "run"}});
    res.set_content(nlohmann::json{{"object", "list"}, {"data", data}}.dump(), "application/json");
  });
  svr.Get(R"(/v1/runs/([^/]+)/curves.svg)", [dir](const httplib::Request& req, httplib::Response& res) {
    const std::string d = run_dir(dir, req.matches[1]);
    plot::Series s;
    try {
      s = plot::read_run(d);
    } catch (const std::exception& e) {
      throw ApiError(409, "run", e.what(), "run_unreadable");
    }
    plot::PlotOptions o;
    o.title = std::string(req.matches[1]);
    res.set_header("Cache-Control", "no-cache");
    res.set_content(plot::render_svg({s}, {}, o), "image/svg+xml");
  });
  svr.Get(R"(/v1/runs/([^/]+)/metrics)", [dir, stop](const httplib::Request& req, httplib::Response& res) {
    const std::string file = (fs::path(run_dir(dir, req.matches[1])) / "metrics.jsonl").string();
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [file, stop](size_t, httplib::DataSink& sink) {
      std::streamoff at = 0;
      std::string partial;
      while (!*stop) {  // every complete line once, then poll for more
        std::ifstream f(file, std::ios::binary);
        f.seekg(at);
        std::string chunk((std::istreambuf_iterator<char>(f)), {});
        at += std::streamoff(chunk.size());
        partial += chunk;
        size_t nl;
        while ((nl = partial.find('\n')) != std::string::npos) {
          const std::string line = partial.substr(0, nl);
          partial.erase(0, nl + 1);
          if (line.empty()) continue;
          const std::string ev = "data: " + line + "\n\n";
          if (!sink.write(ev.data(), ev.size())) return false;
        }
        if (!sink.is_writable()) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
      }
      sink.done();
      return true;
    });
  });
  svr.Get("/runs", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kRunsPageHtml, "text/html; charset=utf-8");
  });
}

const char* const kRunsPageHtml = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>rwkv runs</title>
<style>
  body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: #1d2330; background: #f4f5f7; }
  header { padding: 10px 16px; background: #1d2330; color: #fff; display: flex; gap: 16px; align-items: baseline; }
  header a { color: #9db6ee; }
  nav { padding: 8px 16px; display: flex; gap: 8px; flex-wrap: wrap; }
  nav button { padding: 4px 10px; border: 1px solid #c4c8d2; border-radius: 6px; background: #fff; cursor: pointer; font: inherit; }
  nav button.on { background: #2f6fed; color: #fff; border-color: #2f6fed; }
  #status { padding: 0 16px; color: #49505f; }
  #curves { padding: 8px 16px; }
  #curves svg { max-width: 100%; height: auto; background: #fff; }
</style>
</head>
<body>
<header><b>rwkv runs</b><a href="/">chat</a></header>
<nav id="runs"></nav>
<div id="status">choose a run</div>
<div id="curves"></div>
<script>
'use strict';
const $ = (id) => document.getElementById(id);
let source = null, timer = null, lines = 0;
async function redraw(name) {
  const r = await fetch('/v1/runs/' + encodeURIComponent(name) + '/curves.svg', { cache: 'no-store' });
  if (r.ok) $('curves').innerHTML = await r.text();
  $('status').textContent = name + ': ' + lines + ' steps (live)';
}
function open(name) {
  if (source) source.close();
  lines = 0;
  for (const b of document.querySelectorAll('nav button')) b.classList.toggle('on', b.dataset.run === name);
  source = new EventSource('/v1/runs/' + encodeURIComponent(name) + '/metrics');
  source.onmessage = () => {
    lines++;
    clearTimeout(timer);
    timer = setTimeout(() => redraw(name), 200);  // a burst of lines redraws once
  };
}
fetch('/v1/runs').then((r) => r.json()).then((j) => {
  for (const run of j.data) {
    const b = document.createElement('button');
    b.textContent = run.id;
    b.dataset.run = run.id;
    b.onclick = () => open(run.id);
    $('runs').appendChild(b);
  }
  if (j.data.length) open(j.data[0].id);
  else $('status').textContent = 'no runs (folders with a metrics.jsonl) under the --runs folder';
});
</script>
</body>
</html>
)HTML";

}  // namespace rwkv
