// cmd_make_data.cpp — `rwkv make-data INPUT.jsonl N_EPOCH CTX_LEN [--tokenizer T] [--out PREFIX]
// [--seed S] [--no-shuffle] [--threads N]`: the positional arguments of RWKV-LM's make_data.py.
#include <unistd.h>

#include <csignal>
#include <cstring>

#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "data/binidx.h"
#include "data/make_data.h"

// Ctrl-C / SIGTERM: remove the temp outputs (AtomicFile names them "<path>.tmp.<pid>") so an
// interrupted run leaves nothing behind either — unless the replacement marker is written: then
// the temps are the new pair, which the next reader or make-data finishes putting in place.
static char g_tmp_bin[4096], g_tmp_idx[4096], g_marker[4096];

static void on_signal(int sig) {
  if (access(g_marker, F_OK) != 0) {
    unlink(g_tmp_bin);
    unlink(g_tmp_idx);
  }
  _exit(128 + sig);
}

static void clean_up_on_signals(const std::string& prefix) {
  std::string pid = std::to_string(getpid());
  std::string b = prefix + ".bin.tmp." + pid, i = prefix + ".idx.tmp." + pid;
  const std::string m = rwkv::binidx_marker_path(prefix);
  if (b.size() >= sizeof g_tmp_bin || m.size() >= sizeof g_marker) return;
  std::memcpy(g_tmp_bin, b.c_str(), b.size() + 1);
  std::memcpy(g_tmp_idx, i.c_str(), i.size() + 1);
  std::memcpy(g_marker, m.c_str(), m.size() + 1);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGHUP, on_signal);
}

static int run(int argc, char** argv) {
  CLI::App app{"Tokenize a .jsonl ({\"text\": ...} per line) into binidx PREFIX.bin/.idx, as make_data.py: "
               "the non-empty lines N_EPOCH times (each pass shuffled), token 0 after each document; "
               "prints the summary and the magic prime for CTX_LEN"};
  rwkv::MakeDataOptions o;
  uint64_t seed = 0;
  bool no_shuffle = false, quiet = false;
  app.add_option("input", o.input, "input .jsonl")->required();
  app.add_option("n_epoch", o.n_epoch, "passes over the data")->required();
  app.add_option("ctx_len", o.ctx_len, "context length for the magic prime")->required();
  app.add_option("--tokenizer", o.tokenizer, "world, bytes, 20b, or a vocabulary file")->capture_default_str();
  app.add_option("--out", o.out_prefix, "output prefix (default: the input's name without extension)");
  auto* s = app.add_option("--seed", seed, "shuffle seed; the same order as Python's random.seed(S) in make_data.py");
  app.add_flag("--no-shuffle", no_shuffle, "keep the file order in every pass");
  app.add_option("--threads", o.threads, "tokenizer threads (default: all cores)");
  app.add_flag("--quiet,-q", quiet, "no progress lines on stderr");
  int code = 0;
  if (!rwkv::cli::parse(app, argc, argv, &code)) return code;
  if (s->count()) o.seed = seed;
  o.shuffle = !no_shuffle;
  o.progress = !quiet;
  clean_up_on_signals(rwkv::make_data_prefix(o));
  auto r = rwkv::make_data(o, stdout);
  if (!quiet) {
    if (o.shuffle && !o.seed) fmt::print(stderr, "make-data: shuffled with --seed {}\n", r.seed);
    fmt::print(stderr, "make-data: {} documents, {} tokens from {:.1f} MB of text in {:.2f} s ({:.1f} MB/s)\n", r.docs,
               r.tokens, r.text_bytes / 1e6, r.seconds, r.seconds > 0 ? r.text_bytes / 1e6 / r.seconds : 0.0);
  }
  return 0;
}

static rwkv::cli::Command reg{"make-data", "jsonl -> binidx (.bin/.idx) and magic prime, as make_data.py", run};
