// fuzz_config.cpp — libFuzzer harness: architecture and size detection (detect_config) on a state
// dict's names and shapes. Input: a JSON object {"name": [dims...] or {"dtype": "bf16", "shape":
// [...]}}; tensors get shapes but no data (detection reads only names, dtypes and shapes).
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(data, data + size, nullptr, false);
  if (!j.is_object()) return 0;
  rwkv::StateDict sd;
  for (auto& [name, v] : j.items()) {
    rwkv::Tensor t;
    t.dtype = rwkv::DType::F32;
    const nlohmann::ordered_json* dims = &v;
    if (v.is_object()) {
      if (v.contains("dtype") && v["dtype"].is_string()) rwkv::dtype_from_name(v["dtype"].get<std::string>(), &t.dtype);
      if (!v.contains("shape")) continue;
      dims = &v["shape"];
    }
    if (!dims->is_array() || dims->size() > 8) continue;
    for (auto& d : *dims)
      if (d.is_number_integer()) t.shape.push_back(d.get<int64_t>());
    sd.items.emplace_back(name, std::move(t));
  }
  rwkv::fuzz::refuse_cleanly([&] { (void)rwkv::detect_config(sd, "fuzz"); });
  return 0;
}
