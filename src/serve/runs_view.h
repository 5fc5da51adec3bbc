// runs_view.h — the server's "runs" view (`rwkv serve --runs DIR`): training runs under DIR
// (folders with a metrics.jsonl, as `rwkv train` writes them) listed at GET /v1/runs, each run's
// metrics.jsonl streamed at GET /v1/runs/<name>/metrics (its lines so far, then new ones as the
// trainer appends them, as SSE), its curves at GET /v1/runs/<name>/curves.svg, and the page
// GET /runs that draws a run's curves and redraws them on each streamed line.
#pragma once
#include <string>
#include <vector>

namespace httplib {
class Server;
}

namespace rwkv {

// Run folder names under dir (dir itself as "." when it holds a metrics.jsonl), sorted.
std::vector<std::string> list_runs(const std::string& dir);

// Adds the routes above to `svr`. stop: set when the server shuts down (streams end).
void add_runs_routes(httplib::Server& svr, const std::string& dir, const bool* stop);

extern const char* const kRunsPageHtml;

}  // namespace rwkv
