// cmd_eval.cpp — `rwkv eval lambada|ppl|choice`: evaluate a model with the official loops
// (eval/; definitions in docs/eval.md). Documents run batched through the engine in
// row-invariant mode: the numbers, and the --json file, are the same at any --batch/--threads.
#include <chrono>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/infer_flags.h"
#include "core/assets.h"
#include "core/error.h"
#include "core/progress.h"
#include "data/binidx.h"
#include "eval/choice.h"
#include "eval/jsonl.h"
#include "eval/lambada.h"
#include "eval/perplexity.h"
#include "io/atomic_file.h"

using namespace rwkv;

namespace {

struct EvalFlags {
  cli::InferFlags f;
  std::string data, json;
  int batch = 32;
  int64_t limit = -1;

  void add(CLI::App* c, const std::string& data_help, bool data_required) {
    f.add_model(*c);
    auto* d = c->add_option("--data", data, data_help);
    if (data_required) d->required();
    c->add_option("--json", json, "write per-document results and the totals as JSON lines to this file");
    c->add_option("--limit", limit, "only the first N documents");
    c->add_option("--batch", batch, "documents run together (state slots); the numbers do not depend on it")
        ->capture_default_str();
  }
  void check() const {
    if (batch < 1 || batch > 4096) fail("eval", "--batch must be in [1, 4096], got {}", batch);
    if (limit == 0 || limit < -1) fail("eval", "--limit must be >= 1, got {}", limit);
  }
  std::unique_ptr<Engine> load() const { return f.load(/*row_invariant=*/true); }
  void write_json(const std::string& content) const {
    if (!json.empty()) write_file_atomic(json, content);
  }
};

struct ScoreRun {
  std::vector<ScoreResult> res;
  double seconds = 0;
  int64_t tokens = 0;  // fed: every token but each request's last
  void print_speed(size_t docs) const {
    fmt::print("speed: {:.1f} documents/s, {:.0f} tokens/s ({:.1f} s)\n", double(docs) / seconds,
               double(tokens) / seconds, seconds);
  }
};

// Scores with a progress line (documents; tokens/s).
ScoreRun score_with_progress(const Engine& e, std::span<const ScoreRequest> reqs, int batch, const char* label) {
  ScoreRun run;
  for (const ScoreRequest& r : reqs) run.tokens += int64_t(r.tokens.size()) - 1;
  Progress prog(label, double(reqs.size()), "docs");
  ScoreOptions o;
  o.batch = batch;
  const auto t0 = std::chrono::steady_clock::now();
  auto since = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  o.progress = [&](int64_t docs, int64_t fed) {
    prog.update(double(docs), fmt::format("{:.0f} tokens/s", double(fed) / std::max(since(), 1e-9)));
  };
  run.res = score_requests(e, reqs, o);
  run.seconds = std::max(since(), 1e-9);
  prog.finish(fmt::format("{:.0f} tokens/s", double(run.tokens) / run.seconds));
  return run;
}

int run_lambada(const EvalFlags& ef, const std::string& conv_name) {
  LambadaConvention conv;
  if (conv_name == "rwkv") conv = LambadaConvention::Rwkv;
  else if (conv_name == "lm-eval") conv = LambadaConvention::LmEval;
  else fail("eval", "--convention must be rwkv or lm-eval, got '{}'", conv_name);
  const std::string data = ef.data.empty() ? find_asset("lambada_test.jsonl") : ef.data;
  auto engine = ef.load();
  auto tok = ef.f.make_tok(*engine);
  std::vector<LambadaDoc> docs;
  std::vector<ScoreRequest> reqs;
  for (const JsonLine& l : read_jsonl(data, ef.limit)) {
    docs.push_back(lambada_doc(*tok, jsonl_string(l, data, "text"), conv, fmt::format("{}:{}", data, l.line)));
    reqs.push_back(docs.back().req);
  }
  const ScoreRun run = score_with_progress(*engine, reqs, ef.batch, "lambada");
  const EvalTotals t = lambada_totals(run.res);
  fmt::print("lambada ({} convention): {} documents, {} target tokens\n", convention_name(conv), t.docs,
             t.scored_tokens);
  fmt::print("ppl {:.6f}  acc {:.4f} % ({} / {})\n", t.ppl(), 100 * t.acc(), t.correct, t.docs);
  run.print_speed(docs.size());
  ef.write_json(lambada_jsonl(docs, run.res, conv));
  return 0;
}

// Documents of a .jsonl ("text") or a binidx dataset (path with or without .bin / .idx).
std::vector<PplDoc> read_ppl_docs(const EvalFlags& ef, const Tokenizer& tok, std::vector<std::string>* where) {
  std::vector<PplDoc> docs;
  const std::string& p = ef.data;
  if (p.size() >= 6 && p.ends_with(".jsonl")) {
    for (const JsonLine& l : read_jsonl(p, ef.limit)) {
      const std::string text = jsonl_string(l, p, "text");
      docs.push_back({tok.encode(text), int64_t(text.size())});
      where->push_back(fmt::format("{}:{}", p, l.line));
    }
    return docs;
  }
  std::string prefix = p;
  if (prefix.ends_with(".bin") || prefix.ends_with(".idx")) prefix.resize(prefix.size() - 4);
  BinidxReader r(prefix);
  const size_t n = ef.limit > 0 ? std::min<size_t>(size_t(ef.limit), r.num_docs()) : r.num_docs();
  for (size_t i = 0; i < n; i++) {
    const uint16_t* t = r.tokens() + r.doc_offset(i);
    PplDoc d;
    d.tokens.assign(t, t + r.doc_length(i));
    d.n_bytes = int64_t(tok.decode(d.tokens).size());
    docs.push_back(std::move(d));
    where->push_back(fmt::format("{} document {}", prefix, i));
  }
  if (docs.empty()) fail("eval", "{}: no documents", prefix);
  return docs;
}

int run_ppl(const EvalFlags& ef, bool no_prefix, int64_t ctx_len) {
  if (ctx_len < 0) fail("eval", "--ctx_len must be >= 0 (0: whole documents), got {}", ctx_len);
  auto engine = ef.load();
  auto tok = ef.f.make_tok(*engine);
  std::vector<std::string> where;
  const std::vector<PplDoc> docs = read_ppl_docs(ef, *tok, &where);
  std::vector<ScoreRequest> reqs;
  std::vector<size_t> doc_of;
  for (size_t i = 0; i < docs.size(); i++)
    for (ScoreRequest& r : ppl_requests(docs[i], !no_prefix, ctx_len, where[i])) {
      reqs.push_back(std::move(r));
      doc_of.push_back(i);
    }
  const ScoreRun run = score_with_progress(*engine, reqs, ef.batch, "ppl");
  std::vector<ScoreResult> per_doc(docs.size());
  for (size_t i = 0; i < run.res.size(); i++) {  // windows in order
    per_doc[doc_of[i]].ll += run.res[i].ll;
    per_doc[doc_of[i]].n_scored += run.res[i].n_scored;
  }
  PplTotals t;
  for (size_t i = 0; i < docs.size(); i++) {
    t.docs++;
    t.tokens += per_doc[i].n_scored;
    t.bytes += docs[i].n_bytes;
    t.sum_logprob += per_doc[i].ll;
  }
  fmt::print("ppl: {} documents, {} tokens, {} bytes\n", t.docs, t.tokens, t.bytes);
  fmt::print("mean cross-entropy {:.6f} nats/token  ppl {:.6f}  bits/byte {:.6f}\n", t.mean_ce(), t.ppl(),
             t.bits_per_byte());
  run.print_speed(docs.size());
  ef.write_json(ppl_jsonl(docs, per_doc, t));
  return 0;
}

int run_choice(const EvalFlags& ef) {
  auto engine = ef.load();
  auto tok = ef.f.make_tok(*engine);
  std::vector<ChoiceItem> items;
  for (const JsonLine& l : read_jsonl(ef.data, ef.limit)) {
    const std::string where = fmt::format("{}:{}", ef.data, l.line);
    ChoiceItem it;
    it.context.push_back(0);
    for (int32_t t : tok->encode(jsonl_string(l, ef.data, "context", /*allow_empty=*/true))) it.context.push_back(t);
    auto ch = l.value.find("choices");
    if (ch == l.value.end() || !ch->is_array() || ch->size() < 2)
      fail("eval", "{}: \"choices\" must be an array of >= 2 strings", where);
    for (const auto& c : *ch) {
      if (!c.is_string() || c.get<std::string>().empty())
        fail("eval", "{}: every choice must be a non-empty string", where);
      const std::string s = c.get<std::string>();
      it.choices.push_back(tok->encode(s));
      it.choice_bytes.push_back(int64_t(s.size()));
    }
    auto a = l.value.find("answer");
    if (a == l.value.end() || !a->is_number_integer() || a->get<int64_t>() < 0 ||
        a->get<int64_t>() >= int64_t(it.choices.size()))
      fail("eval", "{}: \"answer\" must be an integer index into \"choices\" (0..{})", where, it.choices.size() - 1);
    it.answer = a->get<int>();
    items.push_back(std::move(it));
  }
  Progress prog("choice", double(items.size()), "items");
  nlohmann::ordered_json jl;
  std::string out;
  int64_t acc = 0, acc_norm = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < items.size(); i++) {
    const ChoiceResult r = score_choice(*engine, items[i]);
    acc += r.pred == items[i].answer;
    acc_norm += r.pred_norm == items[i].answer;
    nlohmann::ordered_json j;
    j["doc"] = i;
    j["ll"] = r.ll;
    j["pred"] = r.pred;
    j["pred_norm"] = r.pred_norm;
    j["answer"] = items[i].answer;
    out += j.dump() + "\n";
    prog.update(double(i + 1));
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  prog.finish();
  const double n = double(items.size());
  fmt::print("choice: {} items\nacc {:.4f} % ({} / {})  acc_norm {:.4f} % ({} / {})\n", items.size(), 100 * acc / n,
             acc, items.size(), 100 * acc_norm / n, acc_norm, items.size());
  fmt::print("speed: {:.1f} items/s\n", n / std::max(s, 1e-9));
  nlohmann::ordered_json sum;
  sum["task"] = "choice";
  sum["n_items"] = items.size();
  sum["acc"] = acc / n;
  sum["acc_norm"] = acc_norm / n;
  out += nlohmann::ordered_json{{"summary", sum}}.dump() + "\n";
  ef.write_json(out);
  return 0;
}

int run(int argc, char** argv) {
  CLI::App app{"Evaluate a model: LAMBADA, perplexity, multiple choice (docs/eval.md)."};
  app.require_subcommand(1);
  EvalFlags lf, pf, cf;
  std::string conv = "rwkv";
  bool no_prefix = false;
  int64_t ctx_len = 0;
  auto* lam = app.add_subcommand("lambada", "LAMBADA last-word prediction: ppl and acc");
  lf.add(lam, "LAMBADA JSON lines with \"text\" (default: assets/lambada_test.jsonl)", false);
  lam->add_option("--convention", conv, "rwkv (RWKV-LM's demo loop) or lm-eval (lambada_openai)")->capture_default_str();
  auto* ppl = app.add_subcommand("ppl", "perplexity and bits per byte of documents");
  pf.add(ppl, "documents: a .jsonl with \"text\", or a binidx dataset (prefix, .bin or .idx)", true);
  ppl->add_flag("--no_prefix", no_prefix, "do not feed token 0 before each document (its first token is then not scored)");
  ppl->add_option("--ctx_len", ctx_len, "score in windows of N tokens, each from a fresh state (0: whole documents)");
  auto* ch = app.add_subcommand("choice", "multiple choice: {\"context\", \"choices\", \"answer\"} per line");
  cf.add(ch, "JSON lines with context, choices, answer", true);
  int code = 0;
  if (!cli::parse(app, argc, argv, &code)) return code;
  if (lam->parsed()) return lf.check(), run_lambada(lf, conv);
  if (ppl->parsed()) return pf.check(), run_ppl(pf, no_prefix, ctx_len);
  return cf.check(), run_choice(cf);
}

}  // namespace

static cli::Command reg{"eval", "evaluate a model: LAMBADA, perplexity, multiple choice", run};
