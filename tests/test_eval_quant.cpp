// test_eval_quant.cpp — `rwkv eval lambada --dtype int8 / q4` on the first documents of the eval
// fixture: the per-document log-likelihoods stay close to the fp32 run's (tol::eval_int8_vs_fp32,
// eval_q4_vs_fp32), differ from it (the weights were quantized), and the document set is the same.
// One thread: the numbers do not depend on it (docs/eval.md), and a busy 2-core machine made two
// threads 10x slower here.
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "test_util.h"

using namespace rwkv::test;
using nlohmann::json;

namespace {

std::vector<json> lambada(const std::string& flags, const TempDir& d, const std::string& name) {
  const std::string out = d / (name + ".jsonl");
  auto r = run_cli("eval lambada --model " + fixture("eval/model.pth") + " --limit 200 --threads 1 --json " + out + " " + flags);
  EXPECT_EQ(r.status, 0) << r.err;
  std::vector<json> v;
  std::ifstream f(out);
  std::string line;
  while (std::getline(f, line))
    if (!line.empty()) v.push_back(json::parse(line));
  return v;
}

}  // namespace

TEST(EvalQuantized, Int8AndQ4StayCloseToFp32) {
  TempDir d;
  const auto ref = lambada("", d, "fp32");
  ASSERT_EQ(ref.size(), 201u);  // 200 documents + the summary
  for (auto [dtype, tol] : {std::pair<const char*, Tol>{"int8", tol::eval_int8_vs_fp32}, {"q4", tol::eval_q4_vs_fp32}}) {
    SCOPED_TRACE(dtype);
    const auto got = lambada(std::string("--dtype ") + dtype, d, dtype);
    ASSERT_EQ(got.size(), ref.size());
    double sum = 0;
    for (size_t i = 0; i + 1 < ref.size(); i++) {
      ASSERT_EQ(got[i]["tgt"], ref[i]["tgt"]);
      sum += std::abs(got[i]["ll"].get<double>() - ref[i]["ll"].get<double>());
    }
    const double mean = sum / double(ref.size() - 1);
    const double ppl_rel = std::abs(got.back()["summary"]["ppl"].get<double>() / ref.back()["summary"]["ppl"].get<double>() - 1);
    std::printf("[ eval ] lambada --dtype %s, 200 documents: mean |ll - ll_fp32| %.4g, ppl rel. change %.3g\n", dtype, mean,
                ppl_rel);
    EXPECT_LE(mean, tol.abs);
    EXPECT_LE(ppl_rel, tol.rel);
    EXPECT_GT(mean, 1e-4);  // it did quantize
  }
}
