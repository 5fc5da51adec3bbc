// test_eval.cpp — `rwkv eval` end to end: LAMBADA in both conventions and the perplexity set
// against the official loop's per-document numbers (fixtures eval/), multiple choice against
// sums over `rwkv forward`'s logits, bit-identical JSON at any batch size and thread count,
// and clear errors for bad input (file:line, no output left).
#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/tensor.h"
#include "io/model_file.h"
#include "tokenizer/tokenizer.h"
#include "test_util.h"

using namespace rwkv::test;
using nlohmann::json;

namespace {

std::string model() { return fixture("eval/model.pth"); }

std::vector<json> read_jsonl(const std::string& path) {
  std::vector<json> v;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line))
    if (!line.empty()) v.push_back(json::parse(line));
  return v;
}

// Runs one LAMBADA convention on all 5,153 documents and checks every document and the totals.
void check_lambada(const std::string& conv, const std::string& fixture_file, const std::string& summary_key) {
  TempDir d;
  auto r = run_cli("eval lambada --model " + model() + " --convention " + conv + " --json " + (d / "out.jsonl"));
  ASSERT_EQ(r.status, 0) << r.err;
  auto got = read_jsonl(d / "out.jsonl");
  auto ref = read_jsonl(fixture(fixture_file));
  ASSERT_EQ(got.size(), ref.size() + 1);  // + the summary line
  double worst = 0;
  int flips = 0;
  for (size_t i = 0; i < ref.size(); i++) {
    SCOPED_TRACE(testing::Message() << conv << " document " << i);
    ASSERT_EQ(got[i]["doc"], ref[i]["doc"]);
    ASSERT_EQ(got[i]["tgt"], ref[i]["tgt"]);
    ASSERT_EQ(got[i]["n_ctx"], ref[i]["n_ctx"]);
    const double e = std::abs(got[i]["ll"].get<double>() - ref[i]["ll"].get<double>());
    worst = std::max(worst, e);
    EXPECT_LE(e, tol::eval_doc_ll.abs);
    flips += got[i]["correct"] != ref[i]["correct"];
  }
  EXPECT_EQ(flips, 0);
  const json& s = got.back()["summary"];
  const json want = json::parse(read_file(fixture("eval/summary.json")))[summary_key];
  EXPECT_EQ(s["n_docs"], want["n_docs"]);
  EXPECT_EQ(s["n_tgt_tokens"], want["n_tgt_tokens"]);
  EXPECT_EQ(s["n_correct"], want["n_correct"]);
  EXPECT_EQ(s["acc"].get<double>(), want["acc"].get<double>());
  const double ppl_rel = std::abs(s["ppl"].get<double>() / want["ppl"].get<double>() - 1);
  EXPECT_LE(ppl_rel, tol::eval_ppl.rel);
  EXPECT_NE(r.out.find("ppl "), std::string::npos) << r.out;
  std::printf("[ eval ] lambada %s: worst |ll - official| %.3g, ppl rel. error %.3g, acc %s\n", conv.c_str(), worst,
              ppl_rel, s["acc"].dump().c_str());
}

}  // namespace

TEST(EvalFixture, LambadaRwkvConventionMatchesOfficialLoop) {
  check_lambada("rwkv", "eval/lambada_rwkv.jsonl", "lambada_rwkv");
}

TEST(EvalFixture, LambadaLmEvalConventionMatchesHarness) {
  check_lambada("lm-eval", "eval/lambada_lmeval.jsonl", "lambada_lmeval");
}

TEST(EvalFixture, PerplexitySetMatchesPerDocumentSums) {
  TempDir d;
  auto r = run_cli("eval ppl --model " + model() + " --data " + fixture("eval/ppl_docs.jsonl") + " --json " +
                   (d / "out.jsonl"));
  ASSERT_EQ(r.status, 0) << r.err;
  auto got = read_jsonl(d / "out.jsonl");
  auto ref = read_jsonl(fixture("eval/ppl_expected.jsonl"));
  ASSERT_EQ(got.size(), ref.size() + 1);
  double worst = 0;
  for (size_t i = 0; i < ref.size(); i++) {
    SCOPED_TRACE(testing::Message() << "document " << i);
    EXPECT_EQ(got[i]["n_tokens"], ref[i]["n_tokens"]);
    EXPECT_EQ(got[i]["n_bytes"], ref[i]["n_bytes"]);
    const double e = std::abs(got[i]["sum_logprob"].get<double>() - ref[i]["sum_logprob"].get<double>());
    worst = std::max(worst, e);
    EXPECT_LE(e, tol::eval_doc_ll.abs);
  }
  const json& s = got.back()["summary"];
  const json want = json::parse(read_file(fixture("eval/summary.json")))["ppl_set"];
  EXPECT_EQ(s["n_tokens"], want["n_tokens"]);
  EXPECT_EQ(s["n_bytes"], want["n_bytes"]);
  EXPECT_LE(std::abs(s["ppl"].get<double>() / want["ppl"].get<double>() - 1), tol::eval_ppl.rel);
  EXPECT_LE(std::abs(s["bits_per_byte"].get<double>() / want["bits_per_byte"].get<double>() - 1), tol::eval_ppl.rel);
  std::printf("[ eval ] ppl set: worst |sum_logprob - official| %.3g over %zu documents\n", worst, ref.size());
}

// Batch sizes 1, 7, 64 and 1 vs 2 threads: the same bytes (LAMBADA and ppl with windows).
TEST(EvalBatching, JsonIsBitIdenticalAtAnyBatchAndThreads) {
  TempDir d;
  const std::string lam = "eval lambada --model " + model() + " --limit 300 --json ";
  const std::string ppl = "eval ppl --model " + model() + " --data " + fixture("eval/ppl_docs.jsonl") +
                          " --limit 8 --ctx_len 100 --json ";
  std::string first_l, first_p;
  for (const char* v : {"--batch 1", "--batch 7", "--batch 64", "--batch 7 --threads 1"}) {
    SCOPED_TRACE(v);
    auto a = run_cli(lam + (d / "l.jsonl") + " " + v);
    auto b = run_cli(ppl + (d / "p.jsonl") + " " + v);
    ASSERT_EQ(a.status, 0) << a.err;
    ASSERT_EQ(b.status, 0) << b.err;
    const std::string l = read_file(d / "l.jsonl"), p = read_file(d / "p.jsonl");
    ASSERT_GT(l.size(), 1000u);
    if (first_l.empty()) first_l = l, first_p = p;
    EXPECT_EQ(l, first_l);
    EXPECT_EQ(p, first_p);
  }
  // windows of 100 tokens score every token once: the same token count as whole documents
  auto w = read_jsonl(d / "p.jsonl");
  auto whole = run_cli("eval ppl --model " + model() + " --data " + fixture("eval/ppl_docs.jsonl") +
                       " --limit 8 --json " + (d / "w.jsonl"));
  ASSERT_EQ(whole.status, 0) << whole.err;
  EXPECT_EQ(read_jsonl(d / "w.jsonl").back()["summary"]["n_tokens"], w.back()["summary"]["n_tokens"]);
}

// A hand-made 3-item file: every choice's score equals the sum over `rwkv forward`'s logits of
// [0] + enc(context) + enc(choice), and acc / acc_norm follow from those sums and the answers.
TEST(EvalChoice, ScoresEqualSumsOverForwardLogits) {
  TempDir d;
  {
    std::ofstream f(d / "q.jsonl");
    f << R"({"context": "The capital of France is", "choices": [" Paris", " a banana", " London"], "answer": 0})" "\n"
      << R"({"context": "She opened the door and", "choices": [" walked in", " the", " purple elephants sang"], "answer": 0})" "\n"
      << R"({"context": "One, two, three,", "choices": [" four", " seven hundred", " x"], "answer": 0})" "\n";
  }
  auto r = run_cli("eval choice --model " + model() + " --data " + (d / "q.jsonl") + " --json " + (d / "o.jsonl"));
  ASSERT_EQ(r.status, 0) << r.err;
  auto got = read_jsonl(d / "o.jsonl");
  ASSERT_EQ(got.size(), 4u);
  auto world = rwkv::make_tokenizer("world");
  const auto items = read_jsonl(d / "q.jsonl");
  int acc = 0, acc_norm = 0;
  for (size_t q = 0; q < items.size(); q++) {
    std::vector<double> want;
    for (const auto& c : items[q]["choices"]) {
      std::vector<int32_t> ctx = {0}, ch = world->encode(c.get<std::string>());
      for (int32_t t : world->encode(items[q]["context"].get<std::string>())) ctx.push_back(t);
      std::vector<int32_t> all = ctx;
      all.insert(all.end(), ch.begin(), ch.end());
      rwkv::Tensor t = rwkv::Tensor::empty(rwkv::DType::I64, {1, int64_t(all.size())});
      for (size_t i = 0; i < all.size(); i++) t.ptr<int64_t>()[i] = all[i];
      rwkv::StateDict sd;
      sd.items.emplace_back("tokens", t);
      rwkv::save_safetensors(d / "t.safetensors", sd, {});
      auto f = run_cli("forward --model " + model() + " --tokens " + (d / "t.safetensors") + " --out " + (d / "f.safetensors"));
      ASSERT_EQ(f.status, 0) << f.err;
      rwkv::StateDict out = rwkv::load_safetensors(d / "f.safetensors");
      const float* L = out.find("logits")->ptr<float>();
      const int64_t V = out.find("logits")->shape[2];
      double ll = 0;
      for (size_t j = 0; j < ch.size(); j++) {  // token ctx.size()+j under the logits before it
        const float* row = L + (ctx.size() + j - 1) * V;
        double mx = row[0], s = 0;
        for (int64_t v = 1; v < V; v++) mx = std::max(mx, double(row[v]));
        for (int64_t v = 0; v < V; v++) s += std::exp(double(row[v]) - mx);
        ll += double(row[ch[j]]) - mx - std::log(s);
      }
      want.push_back(ll);
    }
    const auto& g = got[q]["ll"];
    ASSERT_EQ(g.size(), want.size());
    int pred = 0, pred_norm = 0;
    for (size_t c = 0; c < want.size(); c++) {
      EXPECT_NEAR(g[c].get<double>(), want[c], tol::eval_vs_forward.abs) << "item " << q << " choice " << c;
      const auto bytes = [&](size_t k) { return double(items[q]["choices"][k].get<std::string>().size()); };
      if (want[c] > want[size_t(pred)]) pred = int(c);
      if (want[c] / bytes(c) > want[size_t(pred_norm)] / bytes(size_t(pred_norm))) pred_norm = int(c);
    }
    EXPECT_EQ(got[q]["pred"], pred);
    EXPECT_EQ(got[q]["pred_norm"], pred_norm);
    acc += pred == items[q]["answer"].get<int>();
    acc_norm += pred_norm == items[q]["answer"].get<int>();
  }
  EXPECT_DOUBLE_EQ(got.back()["summary"]["acc"].get<double>(), acc / 3.0);
  EXPECT_DOUBLE_EQ(got.back()["summary"]["acc_norm"].get<double>(), acc_norm / 3.0);
}

TEST(EvalErrors, BadInputNamesFileAndLineAndLeavesNoOutput) {
  TempDir d;
  auto write = [&](const std::string& name, const std::string& body) {
    std::ofstream(d / name, std::ios::binary) << body;
    return d / name;
  };
  struct Case { std::string args, want; };
  const std::string m = " --model " + model();
  const Case cases[] = {
      {"eval lambada" + m + " --data " + write("a.jsonl", "{\"text\": \"a b\"}\n{\"txt\": \"c d\"}\n"),
       "a.jsonl:2: no \"text\" field"},
      {"eval lambada" + m + " --data " + write("b.jsonl", "{\"text\": \"a b\"}\n\n{\"text\": \"\"}\n"),
       "b.jsonl:3: empty document"},
      {"eval ppl" + m + " --data " + write("c.jsonl", "{\"text\": \"\"}\n"), "c.jsonl:1: empty document"},
      {"eval lambada" + m + " --data " + write("e.jsonl", "{\"text\": \"nospace\"}\n"), "e.jsonl:1: the text has no space"},
      {"eval lambada" + m + " --data " + write("f.jsonl", "{\"text\": \"a b\"}\n{\"text\": \"a b\"\n"),
       "f.jsonl:2: not valid JSON"},
      {"eval lambada --model " + fixture("rwkv7-L2-D128-V512/model.pth") + " --tokenizer world --data " +
           write("g.jsonl", "{\"text\": \"a b\"}\n"),
       "[tokenizer]"},
      {"eval choice" + m + " --data " + write("h.jsonl", "{\"context\": \"x\", \"choices\": [\" a\", \" b\"], \"answer\": 2}\n"),
       "h.jsonl:1: \"answer\" must be an integer index"},
      {"eval lambada" + m + " --batch 0", "--batch must be in [1, 4096]"},
  };
  for (const Case& c : cases) {
    auto r = run_cli(c.args + " --json " + (d / "out.jsonl"));
    EXPECT_EQ(r.status, 1) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.want), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_FALSE(std::filesystem::exists(d / "out.jsonl")) << c.args;
  }
}

// Every version the engine runs: eval ppl on the RWKV-2/4/5.2/6.0/7 fixture models (byte
// tokenizer) gives the same JSON at batch 1 and 5, with a finite cross-entropy.
TEST(EvalVersions, PplRunsOnEveryVersionBatchInvariant) {
  TempDir d;
  for (const char* m : {"rwkv2", "pip/rwkv4-L2-D128-V512", "pip/rwkv5-L2-D128-V512", "pip/rwkv6-L2-D128-V512",
                        "rwkv7-L2-D128-V512"}) {
    SCOPED_TRACE(m);
    const std::string base = "eval ppl --model " + fixture(std::string(m) + "/model.pth") +
                             " --tokenizer bytes --data " + fixture("eval/ppl_docs.jsonl") + " --limit 2 --json ";
    auto a = run_cli(base + (d / "a.jsonl") + " --batch 1");
    auto b = run_cli(base + (d / "b.jsonl") + " --batch 5");
    ASSERT_EQ(a.status, 0) << a.err;
    ASSERT_EQ(b.status, 0) << b.err;
    EXPECT_EQ(read_file(d / "a.jsonl"), read_file(d / "b.jsonl"));
    const double ce = read_jsonl(d / "a.jsonl").back()["summary"]["mean_ce_per_token"].get<double>();
    EXPECT_TRUE(std::isfinite(ce) && ce > 0 && ce < 20) << ce;
  }
}

// RWKV-2 runs the lm-eval LAMBADA loop too (the fixture's vocabulary is 512: byte tokens).
TEST(EvalVersions, LambadaLmEvalOnRwkv2) {
  auto r = run_cli("eval lambada --convention lm-eval --tokenizer bytes --limit 40 --model " + fixture("rwkv2/model.pth"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("lambada (lm-eval convention): 40 documents"), std::string::npos) << r.out;
}
