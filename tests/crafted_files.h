// crafted_files.h — the hostile inputs of tests/test_hostile_files.cpp, made by code rather than
// kept as files: each a few hundred bytes that once crashed, hung or over-allocated a parser
// (ZIP64 offsets near 2^64, size x stride overflows, stride-0 views, absurd token ids, ...).
// tests/fuzz/make_seeds.cpp writes every one of them into the fuzzers' corpora, so each fuzz run
// replays them; a new finding gets its generator here. Needs the library only (no gtest).
#pragma once
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "io/atomic_file.h"
#include "io/pickle.h"
#include "io/zip.h"

namespace rwkv::test {

// data.pkl of {key: _rebuild_tensor_v2(('storage', torch.<storage>, skey, 'cpu', storage_numel),
// 0, size, stride, ...)}: one tensor viewing one storage.
inline std::string tensor_pickle(const std::string& key, const std::string& storage, const std::string& skey,
                                 int64_t storage_numel, const std::vector<int64_t>& size,
                                 const std::vector<int64_t>& stride) {
  pickle::Writer w;
  w.empty_dict();
  w.str(key);
  w.global("torch._utils", "_rebuild_tensor_v2");
  w.mark();
  w.mark();
  w.str("storage");
  w.global("torch", storage);
  w.str(skey);
  w.str("cpu");
  w.integer(storage_numel);
  w.tuple_mark();
  w.binpersid();
  w.integer(0);
  for (auto* v : {&size, &stride}) {
    w.mark();
    for (int64_t x : *v) w.integer(x);
    w.tuple_mark();
  }
  w.rebuild_tensor_tail();
  w.setitem();
  return w.finish();
}

// A .pth-like zip with the given records under "archive/" (data.pkl first); with `zip64`, ZIP64
// extra fields on every record (as records past 4 GiB have them).
inline void write_raw_pth(const std::string& path, const std::string& pkl,
                          const std::vector<std::pair<std::string, std::string>>& records, bool zip64 = false) {
  AtomicFile out(path);
  ZipWriter z(out);
  z.force_zip64 = zip64;
  z.add("archive/data.pkl", pkl);
  for (auto& [name, content] : records) z.add("archive/" + name, content);
  z.add("archive/version", "3\n");
  z.finish();
  out.commit();
}

inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Overwrites bytes of a file in place.
inline void patch(const std::string& path, uint64_t at, const void* bytes, size_t n) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(std::streamoff(at));
  f.write(static_cast<const char*>(bytes), std::streamsize(n));
}
inline void patch64(const std::string& path, uint64_t at, uint64_t v) { patch(path, at, &v, 8); }

// Offset of the last occurrence of a 4-byte zip signature.
inline uint64_t find_last_sig(const std::string& data, uint32_t sig) {
  for (size_t i = data.size() - 4; i-- > 0;)
    if (std::memcmp(data.data() + i, &sig, 4) == 0) return i;
  throw std::runtime_error("zip signature not found");
}

struct CraftedFile {
  const char* target;  // the fuzz harness whose format it is (tests/fuzz/fuzz_<target>.cpp)
  const char* name;
  const char* ext;
  void (*write)(const std::string& path);
};

inline const std::vector<CraftedFile>& crafted_files() {
  using V = std::vector<int64_t>;
  static const std::vector<CraftedFile> all = {
      // a valid one-tensor .pth whose ZIP64 end-record offset is 2^64 - 16
      {"pth", "zip64_locator", ".pth", [](const std::string& p) {
         write_raw_pth(p, tensor_pickle("blocks.0.att.x_r", "FloatStorage", "0", 4, {4}, {1}), {{"data/0", std::string(16, '\0')}});
         patch64(p, find_last_sig(slurp(p), 0x07064b50) + 8, 0xfffffffffffffff0ull);
       }},
      // data.pkl's local-header offset (in its ZIP64 extra field) near 2^64
      {"pth", "local_header_offset", ".pth", [](const std::string& p) {
         write_raw_pth(p, tensor_pickle("blocks.0.att.x_r", "FloatStorage", "0", 4, {4}, {1}), {{"data/0", std::string(16, '\0')}},
                       /*zip64=*/true);
         const std::string d = slurp(p);
         const uint64_t cd = d.find(std::string("PK\x01\x02", 4));  // the first central record: data.pkl
         uint16_t nl;
         std::memcpy(&nl, d.data() + cd + 28, 2);
         patch64(p, cd + 46 + nl + 4 + 16, 0xffffffffffffffe0ull);  // ZIP64 extra: usize, csize, local offset
       }},
      // a ZIP64 entry count of 2^40 (was reserved: 15 GB+)
      {"pth", "zip64_entry_count", ".pth", [](const std::string& p) {
         write_raw_pth(p, tensor_pickle("blocks.0.att.x_r", "FloatStorage", "0", 4, {4}, {1}), {{"data/0", std::string(16, '\0')}});
         const uint64_t z = find_last_sig(slurp(p), 0x06064b50);
         patch64(p, z + 24, uint64_t(1) << 40);  // entries on this disk
         patch64(p, z + 32, uint64_t(1) << 40);  // entries in total
       }},
      // a view whose element count overflows
      {"pth", "view_overflow_2d", ".pth", [](const std::string& p) {
         write_raw_pth(p, tensor_pickle("blocks.0.att.x_r", "FloatStorage", "0", 4, V{int64_t(1) << 32, int64_t(1) << 32},
                                        V{int64_t(1) << 32, 1}),
                       {{"data/0", std::string(16, '\0')}});
       }},
      // one dimension whose (size - 1) * stride wraps to 0 and passed the storage check
      {"pth", "view_overflow_wrap", ".pth", [](const std::string& p) {
         write_raw_pth(p, tensor_pickle("blocks.0.att.x_r", "FloatStorage", "0", 8, {5, 1}, V{int64_t(1) << 62, 1}),
                       {{"data/0", std::string(32, '\0')}});
       }},
      // a view past its storage
      {"pth", "view_exceeds_storage", ".pth", [](const std::string& p) {
         write_raw_pth(p, tensor_pickle("blocks.0.att.x_r", "FloatStorage", "0", 4, {2, 2}, V{int64_t(1) << 62, 1}),
                       {{"data/0", std::string(16, '\0')}});
       }},
      // a stride-0 view of 2^30 elements over one (was 4 GB and minutes)
      {"pth", "stride0_view", ".pth", [](const std::string& p) {
         write_raw_pth(p, tensor_pickle("blocks.0.att.x_r", "FloatStorage", "0", 1, V{int64_t(1) << 30}, {0}),
                       {{"data/0", std::string(4, '\0')}});
       }},
      // 2^62 elements backed by 64 bytes (convert wrote it with rc 0)
      {"pth", "huge_tensor_64_bytes", ".pth", [](const std::string& p) {
         write_raw_pth(p, tensor_pickle("blocks.0.att.x_r", "FloatStorage", "0", int64_t(1) << 62, V{int64_t(1) << 62}, {1}),
                       {{"data/0", std::string(64, '\0')}});
       }},
      // a safetensors "tokens" of shape (2^62, 4) over 8 bytes (crashed `rwkv forward`)
      {"safetensors", "shape_overflow", ".safetensors", [](const std::string& p) {
         const std::string h = R"({"tokens":{"dtype":"I64","shape":[4611686018427387904,4],"data_offsets":[0,8]}})";
         const uint64_t n = h.size();
         std::ofstream(p, std::ios::binary) << std::string(reinterpret_cast<const char*>(&n), 8) << h << "abcdefgh";
       }},
      // World vocabulary ids that overflowed id + 1, sized a 16 GB table, or 400 MB from 20 bytes
      {"world_vocab", "id_int32_max", ".txt", [](const std::string& p) { std::ofstream(p) << "1 'a' 1\n2147483647 'b' 1\n"; }},
      {"world_vocab", "id_2e9", ".txt", [](const std::string& p) { std::ofstream(p) << "1 'a' 1\n2000000000 'b' 1\n"; }},
      {"world_vocab", "id_far_beyond", ".txt", [](const std::string& p) { std::ofstream(p) << "1 'a' 1\n16777215 'b' 1\n"; }},
      // a negative added-token id (wrote before the table)
      {"tokenizer_json", "negative_added_id", ".json", [](const std::string& p) {
         std::ofstream(p) << R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"},)"
                     R"("added_tokens":[{"id":-5,"content":"x"}]})";
       }},
  };
  return all;
}

// Writes the crafted file `name` to `path`.
inline void write_crafted(const std::string& name, const std::string& path) {
  for (const CraftedFile& c : crafted_files())
    if (name == c.name) return c.write(path);
  throw std::runtime_error("no crafted file named " + name);
}

}  // namespace rwkv::test
