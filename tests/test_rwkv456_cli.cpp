// test_rwkv456_cli.cpp — RWKV-4/5/6 and the 20B tokenizer end to end through the CLI:
// `rwkv tokenize` with the 20B tokenizer.json, `rwkv forward` (logits vs the pip package, state
// files naming the version), `rwkv generate` / `rwkv chat` on a model of each version, and the
// tokenizer choice (guessed from the vocabulary size, refused when it does not fit the model).
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/model_file.h"
#include "test_util.h"

using namespace rwkv::test;

namespace {

const char* kVersions[][2] = {{"4", "v4"}, {"5", "x052"}, {"6", "x060"}};
std::string pip_dir(const std::string& v) { return fixture("pip/rwkv" + v + "-L2-D128-V512"); }
const char* kGreedy = " --temperature 0 --alpha_frequency 0 --alpha_presence 0";

TEST(Rwkv456Cli, TokenizeJsonlWith20B) {
  std::string cases = fixture("tokenizer/bpe20b_cases.jsonl");
  auto r = run_cli("tokenize --tokenizer " + asset("20B_tokenizer.json") + " --jsonl " + cases);
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream f(cases);
  std::istringstream out(r.out);
  std::string want, got;
  int n = 0;
  while (std::getline(f, want)) {
    ASSERT_TRUE(std::getline(out, got)) << "missing output line " << n;
    EXPECT_EQ(nlohmann::json::parse(got)["ids"], nlohmann::json::parse(want)["ids"]) << "line " << n;
    n++;
  }
  EXPECT_EQ(n, 170);
  // ... and back: --decode --jsonl gives the text (NFC) again.
  auto back = run_cli("tokenize --tokenizer 20b --decode --jsonl", r.out);
  ASSERT_EQ(back.status, 0) << back.err;
  std::istringstream texts(back.out);
  std::ifstream f2(cases);
  int same = 0;
  while (std::getline(f2, want) && std::getline(texts, got))
    same += nlohmann::json::parse(got)["text"] == nlohmann::json::parse(want)["text"];
  EXPECT_EQ(same, 169);  // all but the decomposed "e + U+0301" case, which comes back composed
}

TEST(Rwkv456Cli, ForwardWritesLogitsAndVersionedState) {
  TempDir d;
  for (auto& [v, arch] : kVersions) {
    std::string dir = pip_dir(v), out = d / (std::string(arch) + ".safetensors");
    auto r = run_cli("forward --model " + dir + "/model.pth --tokens " + dir + "/expected.safetensors --out " + out +
                     " --chunk_len 7");
    ASSERT_EQ(r.status, 0) << r.err;
    std::map<std::string, std::string> meta;
    rwkv::StateDict got = rwkv::load_safetensors(out, &meta);
    EXPECT_EQ(meta["arch"], arch);
    rwkv::StateDict ref = rwkv::load_safetensors(dir + "/expected.safetensors");
    EXPECT_LE(rel_norm_err(got.at("logits").to_f32_vec(), ref.at("logits").to_f32_vec()), tol::fp32_logits.rel)
        << arch;
    EXPECT_LE(rel_norm_err(got.at("state.1.ffn_x").to_f32_vec(), ref.at(v == std::string("4") ? "pip_state.9" : "pip_state.5").to_f32_vec()),
              tol::fp32_logits.rel)
        << arch;
  }
}

TEST(Rwkv456Cli, ConvertToBf16SafetensorsAndRun) {
  // `rwkv convert` keeps each layout; the models run on bf16 weights as stored (zero-copy).
  TempDir d;
  for (auto& [v, arch] : kVersions) {
    std::string dir = pip_dir(v), conv = d / (std::string(arch) + ".safetensors"), out = d / "out.safetensors";
    auto c = run_cli("convert " + dir + "/model.pth " + conv + " --dtype bf16");
    ASSERT_EQ(c.status, 0) << c.err;
    auto i = run_cli("inspect " + conv);
    EXPECT_NE(i.out.find(arch), std::string::npos) << i.out;
    auto r = run_cli("forward --model " + conv + " --tokens " + dir + "/expected.safetensors --out " + out);
    ASSERT_EQ(r.status, 0) << r.err;
    rwkv::StateDict got = rwkv::load_safetensors(out), ref = rwkv::load_safetensors(dir + "/expected.safetensors");
    double e = rel_norm_err(got.at("logits").to_f32_vec(), ref.at("logits").to_f32_vec());
    EXPECT_LE(e, tol::bf16_weights.rel) << arch;
    EXPECT_GT(e, 0) << arch;  // really ran on rounded weights
  }
}

TEST(Rwkv456Cli, GenerateAndChatRunEveryVersion) {
  TempDir d;
  for (auto& [v, arch] : kVersions) {
    std::string model = pip_dir(v) + "/model.pth";
    std::string st = d / (std::string(arch) + ".state");
    auto g = run_cli("generate --model " + model + " --tokenizer bytes --prompt Hello --tokens 8 --state-out " + st +
                     kGreedy);
    ASSERT_EQ(g.status, 0) << arch << ": " << g.err;
    EXPECT_FALSE(g.out.empty()) << arch;
    std::map<std::string, std::string> meta;
    rwkv::load_safetensors(st, &meta);
    EXPECT_EQ(meta["arch"], arch);  // the state file records the version
    // Greedy continuation from the saved state equals generating in one go.
    auto whole = run_cli("generate --model " + model + " --tokenizer bytes --prompt Hello --tokens 12" + kGreedy);
    auto rest = run_cli("generate --model " + model + " --tokenizer bytes --state-in " + st + " --tokens 4" + kGreedy);
    ASSERT_EQ(whole.status, 0) << whole.err;
    ASSERT_EQ(rest.status, 0) << rest.err;
    EXPECT_EQ(g.out + rest.out, whole.out) << arch;

    auto c = run_cli("chat --model " + model + " --tokenizer bytes --tokens 6" + std::string(kGreedy),
                     "Hello\n/quit\n");
    EXPECT_EQ(c.status, 0) << arch << ": " << c.err;
  }
}

TEST(Rwkv456Cli, BadTokenizerAndForeignStateAreRefused) {
  std::string v4 = pip_dir("4") + "/model.pth", v6 = pip_dir("6") + "/model.pth", v5 = pip_dir("5") + "/model.pth";
  // The 20B tokenizer has 50277 ids; this model only 512.
  auto r = run_cli("generate --model " + v4 + " --tokenizer 20b --prompt Hi --tokens 2");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("50277"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("512"), std::string::npos) << r.err;
  // No --tokenizer and a vocabulary size that implies none.
  r = run_cli("generate --model " + v4 + " --prompt Hi --tokens 2");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--tokenizer"), std::string::npos) << r.err;
  // A state file of RWKV-5.2 given to an RWKV-6.0 model of the same size.
  TempDir d;
  auto g = run_cli("generate --model " + v5 + " --tokenizer bytes --prompt Hi --tokens 1 --state-out " + (d / "s5"));
  ASSERT_EQ(g.status, 0) << g.err;
  r = run_cli("generate --model " + v6 + " --tokenizer bytes --state-in " + (d / "s5") + " --tokens 2");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("x052"), std::string::npos) << r.err;
}

}  // namespace
