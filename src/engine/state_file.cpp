// state_file.cpp — see state_file.h.
#include "engine/state_file.h"

#include <cstring>
#include <map>

#include "core/error.h"
#include "engine/engine.h"
#include "io/model_file.h"

namespace rwkv {

void save_state_file(const std::string& path, const ModelConfig& cfg, const StateDict& st,
                     const std::vector<float>* logits) {
  StateDict sd = st;
  if (logits) {
    Tensor l = Tensor::empty(DType::F32, {int64_t(logits->size())});
    std::memcpy(l.data, logits->data(), logits->size() * 4);
    sd.items.emplace_back("logits", l);
  }
  auto meta = model_identity(cfg);
  meta["format"] = "rwkv-state";
  save_safetensors(path, sd, meta);
}

void save_state_file(const std::string& path, const ModelConfig& cfg, const StatePool& pool, int slot,
                     const std::vector<float>* logits) {
  save_state_file(path, cfg, pool.to_state_dict(slot), logits);
}

StateDict read_state_file(const std::string& path, const ModelConfig& cfg, std::vector<float>* logits) {
  std::map<std::string, std::string> meta;
  StateDict sd = load_safetensors(path, &meta);
  auto want = model_identity(cfg);
  if (meta.count("format") && meta["format"] != "rwkv-state")
    fail("state", "{}: not a state file (format '{}')", path, meta["format"]);
  for (auto& [k, v] : want) {
    auto it = meta.find(k);
    if (it == meta.end()) fail("state", "{}: metadata has no '{}' (not a state file written by rwkv?)", path, k);
    if (it->second != v)
      fail("state", "{}: made for another model: {} = {}, this model has {} = {} "
           "(state file: arch {} L{} D{}, model: arch {} L{} D{})", path, k, it->second, k, v,
           meta["arch"], meta["n_layer"], meta["n_embd"], want["arch"], want["n_layer"], want["n_embd"]);
  }
  std::vector<float> lg;
  if (const Tensor* l = sd.find("logits")) {
    if (l->numel() != cfg.vocab_size)
      fail("state", "{}: 'logits' has {} values, the model's vocabulary is {}", path, l->numel(), cfg.vocab_size);
    lg = l->to_f32_vec();
  }
  if (logits) *logits = std::move(lg);
  return sd;
}

void load_state_file(const std::string& path, const ModelConfig& cfg, StatePool& pool, int slot,
                     std::vector<float>* logits) {
  std::vector<float> lg;
  StateDict sd = read_state_file(path, cfg, &lg);
  pool.from_state_dict(slot, sd, path);
  if (logits) *logits = std::move(lg);
}

}  // namespace rwkv
