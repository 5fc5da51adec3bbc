// safetensors.cpp — the safetensors format (8-byte little-endian header size, a JSON header of
// name -> {dtype, shape, data_offsets} plus "__metadata__", then the raw data). Read zero-copy
// from an mmap; written with the header padded so that data starts 64-byte aligned.
#include <algorithm>
#include <cstring>
#include <optional>
#include <set>
#include <nlohmann/json.hpp>

#include "core/checked.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "io/mmap.h"
#include "io/model_file.h"

namespace rwkv {

namespace {

struct StDType { const char* name; DType dtype; };
constexpr StDType kStDTypes[] = {
    {"F32", DType::F32}, {"BF16", DType::BF16}, {"F16", DType::F16}, {"I64", DType::I64}, {"I32", DType::I32},
    {"U8", DType::U8},   {"I8", DType::I8},     {"BOOL", DType::BOOL}, {"F64", DType::F64},
};

const char* st_name(DType t) {
  for (auto& s : kStDTypes)
    if (s.dtype == t) return s.name;
  fail("safetensors", "no safetensors dtype for {}", dtype_name(t));
}

}  // namespace

StateDict load_safetensors(const std::string& path, std::map<std::string, std::string>* metadata) {
  auto file = map_file(path);
  const uint64_t n = file->size;
  if (n < 8) fail("safetensors", "{}: truncated (file of {} bytes has no header)", path, n);
  uint64_t hlen;
  std::memcpy(&hlen, file->data, 8);
  if (hlen > n - 8) fail("safetensors", "{}: header of {} bytes does not fit in the file (truncated or not safetensors)", path, hlen);
  nlohmann::ordered_json h;
  std::set<std::string> keys;
  std::string repeated;  // a tensor name that appears twice (JSON parsers silently keep one)
  try {
    h = nlohmann::ordered_json::parse(file->data + 8, file->data + 8 + hlen,
                                      [&](int depth, nlohmann::ordered_json::parse_event_t ev, nlohmann::ordered_json& v) {
                                        if (ev == nlohmann::ordered_json::parse_event_t::key && depth == 1 &&
                                            !keys.insert(v.get<std::string>()).second && repeated.empty())
                                          repeated = v.get<std::string>();
                                        return true;
                                      });
  } catch (const std::exception& e) {
    fail("safetensors", "{}: header is not valid JSON: {}", path, e.what());
  }
  if (!repeated.empty()) fail("safetensors", "{}: tensor '{}' appears twice in the header", path, repeated);
  if (!h.is_object()) fail("safetensors", "{}: header is not a JSON object", path);
  const uint8_t* base = file->data + 8 + hlen;
  const uint64_t data_size = n - 8 - hlen;
  struct Item { std::string name; uint64_t begin; Tensor t; };
  std::vector<Item> items;
  for (auto& [name, v] : h.items()) {
    if (name == "__metadata__") {
      if (metadata && v.is_object())
        for (auto& [k, s] : v.items())
          if (s.is_string()) (*metadata)[k] = s.get<std::string>();
      continue;
    }
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets") ||
        !v["dtype"].is_string() || !v["shape"].is_array() || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2)
      fail("safetensors", "{}: tensor '{}': header entry needs dtype, shape and data_offsets", path, name);
    std::string ds = v["dtype"].get<std::string>();
    const StDType* st = nullptr;
    for (auto& x : kStDTypes)
      if (ds == x.name) st = &x;
    if (!st) fail("safetensors", "{}: tensor '{}': unknown dtype '{}'", path, name, ds);
    Tensor t;
    t.dtype = st->dtype;
    std::optional<uint64_t> bytes = dtype_size(t.dtype);
    for (auto& d : v["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0) fail("safetensors", "{}: tensor '{}': bad shape", path, name);
      t.shape.push_back(d.get<int64_t>());
      if (bytes) bytes = checked_mul(*bytes, uint64_t(t.shape.back()));
    }
    auto& off = v["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail("safetensors", "{}: tensor '{}': bad data_offsets", path, name);
    uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    if (b > e || e > data_size)
      fail("safetensors", "{}: tensor '{}': data [{}, {}) lies outside the {} data bytes (truncated?)", path, name, b, e, data_size);
    if (!bytes || e - b != *bytes)  // checked: a shape whose byte count wraps must not match
      fail("safetensors", "{}: tensor '{}': {} data bytes for {} {} (needs {})", path, name, e - b, dtype_name(t.dtype),
           shape_str(t.shape), bytes ? std::to_string(*bytes) : std::string("more than 2^64"));
    const uint8_t* p = base + b;
    if (reinterpret_cast<uintptr_t>(p) % dtype_size(t.dtype) == 0) {
      t.data = const_cast<uint8_t*>(p);
      t.owner = file;
    } else {
      Tensor c = Tensor::empty(t.dtype, t.shape);
      std::memcpy(c.data, p, c.nbytes());
      t = c;
    }
    items.push_back({name, b, std::move(t)});
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < items.size(); i++) {
    const Item& a = items[i - 1];
    if (a.t.nbytes() && items[i].t.nbytes() && items[i].begin < a.begin + a.t.nbytes())
      fail("safetensors", "{}: tensors '{}' and '{}' overlap in the data (data_offsets [{}, {}) and [{}, ...))", path,
           a.name, items[i].name, a.begin, a.begin + a.t.nbytes(), items[i].begin);
  }
  StateDict sd;
  sd.items.reserve(items.size());
  for (auto& it : items) sd.items.emplace_back(std::move(it.name), std::move(it.t));
  return sd;
}

void save_safetensors(const std::string& path, const StateDict& sd, const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    auto& m = h["__metadata__"] = nlohmann::ordered_json::object();
    for (auto& [k, v] : metadata) m[k] = v;
  }
  uint64_t off = 0;
  for (auto& [name, t] : sd.items) {
    if (name == "__metadata__" || h.contains(name)) fail("safetensors", "{}: tensor name '{}' repeated or reserved", path, name);
    h[name] = {{"dtype", st_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {off, off + t.nbytes()}}};
    off += t.nbytes();
  }
  std::string hs = h.dump();
  hs.append((64 - (8 + hs.size()) % 64) % 64, ' ');  // data starts 64-byte aligned
  uint64_t hlen = hs.size();
  AtomicFile out(path);
  out.write(&hlen, 8);
  out.write(hs);
  for (auto& [name, t] : sd.items) out.write(t.data, t.nbytes());
  out.commit();
}

}  // namespace rwkv
