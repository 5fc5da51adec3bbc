// make_seeds.cpp — writes the fuzzers' seed corpora from the fixtures and assets, small enough to
// mutate quickly: tensors cut to 64 elements, a binidx of five documents, vocabularies cut to a
// few hundred entries, a state file of the RWKV-7 fixture model; and, as regression inputs, every
// hostile file of tests/crafted_files.h (OUT_DIR/<target>/crafted_<name>).
//   make_seeds FIXTURES_DIR ASSETS_DIR OUT_DIR   (OUT_DIR/<target>/seed_*)
#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "crafted_files.h"
#include "data/binidx.h"
#include "engine/engine.h"
#include "engine/state_file.h"
#include "io/model_file.h"
#include "model/config.h"

namespace fs = std::filesystem;
using namespace rwkv;

using test::slurp;
static void put(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

// The first `n` tensors of a model, each cut to at most 64 elements (1-D), in `dt` when floating.
static StateDict small_dict(const std::string& model, size_t n) {
  StateDict src = load_model_file(model), out;
  for (size_t i = 0; i < src.items.size() && out.items.size() < n; i++) {
    const Tensor& t = src.items[i].second;
    const int64_t k = std::min<int64_t>(t.numel(), 64);
    Tensor c = Tensor::empty(t.dtype, {k});
    std::memcpy(c.data, t.data, size_t(k) * dtype_size(t.dtype));
    out.items.emplace_back(src.items[i].first, c);
  }
  return out;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fmt::print(stderr, "usage: make_seeds FIXTURES_DIR ASSETS_DIR OUT_DIR\n");
    return 2;
  }
  const std::string fx = argv[1], assets = argv[2];
  const fs::path out = argv[3], tmp = out / "tmp";
  fs::create_directories(tmp);
  try {
    // pth and safetensors: RWKV-4 and RWKV-7 fixture tensors, fp32 and bf16
    int i = 0;
    for (const char* m : {"rwkv7-L2-D128-V512/model.pth", "pip/rwkv4-L2-D128-V512/model.pth"}) {
      StateDict sd = small_dict(fx + "/" + m, 4);
      save_pth((tmp / "s.pth").string(), sd);
      put(out / "pth", fmt::format("seed_{}.pth", i), slurp((tmp / "s.pth").string()));
      save_safetensors((tmp / "s.safetensors").string(), sd, {{"format", "pt"}});
      put(out / "safetensors", fmt::format("seed_{}.safetensors", i), slurp((tmp / "s.safetensors").string()));
      i++;
    }
    // config detection: the names and shapes of every fixture architecture
    for (const char* m : {"rwkv7-L2-D128-V512/model.pth", "pip/rwkv4-L2-D128-V512/model.pth",
                          "pip/rwkv5-L2-D128-V512/model.pth", "pip/rwkv6-L2-D128-V512/model.pth"}) {
      nlohmann::ordered_json j = nlohmann::ordered_json::object();
      for (auto& [k, t] : load_model_file(fx + "/" + m).items) j[k] = t.shape;
      put(out / "config", fmt::format("seed_{}.json", fs::path(m).parent_path().filename().string()), j.dump());
    }
    // state file: the RWKV-7 fixture model after three tokens
    {
      auto eng = Engine::load(fx + "/rwkv7-L2-D128-V512/model.pth", {});
      StatePool pool = eng->make_pool(1);
      Workspace ws;
      std::vector<int32_t> toks{1, 2, 3};
      BatchEntry e;
      e.slot = 0;
      e.tokens = toks;
      eng->forward(std::span<const BatchEntry>(&e, 1), pool, ws);
      std::vector<float> logits(size_t(eng->vocab_size()), 0.5f);
      save_state_file((tmp / "s.state").string(), eng->config(), pool, 0, &logits);
      put(out / "state_file", "seed_0.safetensors", slurp((tmp / "s.state").string()));
      save_state_file((tmp / "s.state").string(), eng->config(), pool, 0, nullptr);
      put(out / "state_file", "seed_1.safetensors", slurp((tmp / "s.state").string()));
    }
    // binidx: the first five documents of the make-data fixture
    {
      BinidxReader r(fx + "/make-data/demo");
      {
        BinidxWriter w((tmp / "b").string());
        for (size_t d = 0; d < std::min<size_t>(5, r.num_docs()); d++)
          w.add_document(r.tokens() + r.doc_offset(d), std::min<size_t>(r.doc_length(d), 40));
        w.finalize();
      }
      const std::string idx = slurp((tmp / "b.idx").string()), bin = slurp((tmp / "b.bin").string());
      const uint32_t n = uint32_t(idx.size());
      put(out / "binidx", "seed_0", std::string(reinterpret_cast<const char*>(&n), 4) + idx + bin);
    }
    // JSON lines: short lines of demo.jsonl and the shapes the fast path and the fallback take
    {
      std::ifstream f(assets + "/demo.jsonl");
      std::string line, s;
      for (int k = 0; std::getline(f, line) && k < 200; k++)
        if (line.size() < 400) s += line + "\n";
      put(out / "jsonl", "seed_0.jsonl", s);
      put(out / "jsonl", "seed_1.jsonl",
          "{\"text\": \"plain\"}\n{\"meta\": 1, \"text\": \"esc \\\" \\\\ \\n \\u00e9 \\ud83d\\ude00\"}\n"
          "  {\"text\":\"x\"}  \n{\"text\": 5}\n[1,2]\n{\"text\": \"a\", \"text\": \"b\"}\n");
    }
    // World vocabulary: its first 300 lines and its first 50 bytes literals
    {
      std::ifstream f(assets + "/rwkv_vocab_v20230424.txt");
      std::string line, s, b;
      int bytes_lines = 0;
      for (int k = 0; std::getline(f, line); k++) {
        if (k < 300) s += line + "\n";
        if (line.find(" b'") != std::string::npos && bytes_lines < 50) b += line + "\n", bytes_lines++;
        if (k >= 300 && bytes_lines >= 50) break;
      }
      put(out / "world_vocab", "seed_0.txt", s);
      put(out / "world_vocab", "seed_1.txt", s + b);
    }
    // tokenizer.json: the 20B tokenizer cut to ids < 400 and the merges among them
    {
      auto j = nlohmann::ordered_json::parse(slurp(assets + "/20B_tokenizer.json"));
      nlohmann::ordered_json vocab = nlohmann::ordered_json::object(), merges = nlohmann::ordered_json::array();
      for (auto& [k, v] : j["model"]["vocab"].items())
        if (v.get<int64_t>() < 400) vocab[k] = v;
      for (auto& m : j["model"]["merges"]) {
        std::string s = m.get<std::string>();
        size_t sp = s.find(' ');
        if (sp != std::string::npos && vocab.contains(s.substr(0, sp)) && vocab.contains(s.substr(sp + 1)) &&
            vocab.contains(s.substr(0, sp) + s.substr(sp + 1)))
          merges.push_back(m);
        if (merges.size() >= 200) break;
      }
      j["model"]["vocab"] = vocab;
      j["model"]["merges"] = merges;
      put(out / "tokenizer_json", "seed_0.json", j.dump(1));
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "make_seeds: {}\n", e.what());
    return 1;
  }
  try {
    for (const test::CraftedFile& c : test::crafted_files()) {
      fs::create_directories(out / c.target);
      c.write((out / c.target / (std::string("crafted_") + c.name + c.ext)).string());
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "make_seeds: crafted files: {}\n", e.what());
    return 1;
  }
  fs::remove_all(tmp);
  return 0;
}
