// pickle.h — the subset of Python's pickle format that torch.save uses for a state dict
// (protocol 2: dicts, tuples, ints, strings, GLOBAL + REDUCE, BINPERSID). Hand-written: no
// packaged C++ library reads pickles. The reader is a small stack machine that only builds
// plain values; what a GLOBAL/REDUCE/persistent id means is decided by hooks (see pth.cpp),
// so anything outside torch's weights-only allow-list is rejected there.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace rwkv::pickle {

struct Object;
using Ref = std::shared_ptr<Object>;

struct Object {
  enum Kind { None, Bool, Int, Float, Str, Bytes, Tuple, List, Dict, Global, Opaque } kind = None;
  int64_t i = 0;               // Int, Bool
  double f = 0;                // Float
  std::string s, s2;           // Str/Bytes: s; Global: module s, name s2; Opaque: a tag in s
  std::vector<Ref> items;      // Tuple/List; Dict: key, value, key, value, ...
  std::shared_ptr<void> user;  // Opaque: whatever a hook built (a storage, a tensor)
  static Ref make(Kind k) { auto r = std::make_shared<Object>(); r->kind = k; return r; }
};

struct Hooks {
  // GLOBAL module.name: return the object that stands for it, or throw.
  std::function<Ref(const std::string& module, const std::string& name)> global;
  // REDUCE callable(args) (callable is whatever `global` returned).
  std::function<Ref(const Ref& callable, const Ref& args)> reduce;
  // BINPERSID pid.
  std::function<Ref(const Ref& pid)> persistent_load;
  // BUILD obj state (e.g. an OrderedDict's _metadata); default: ignore.
  std::function<void(const Ref& obj, const Ref& state)> build;
};

// Runs the pickle in `data`; errors throw "[<module>] <where>: ..." with the byte offset and the
// last string seen (usually the state-dict key being read).
Ref load(const uint8_t* data, size_t size, const Hooks& hooks, const char* module, const std::string& where);

// Writer for protocol 2 with a memo (strings and globals repeated by BINGET, as pickle does).
class Writer {
 public:
  Writer();
  void mark() { op(0x28); }
  void empty_dict() { op(0x7d); memoize(); }
  void empty_tuple() { op(0x29); }
  void tuple(size_t n);   // n <= 3 -> TUPLE1/2/3, else needs a preceding mark()
  void tuple_mark() { op(0x74); memoize(); }
  void setitems() { op(0x75); }
  void setitem() { op(0x73); }
  void reduce() { op(0x52); memoize(); }
  void binpersid() { op(0x51); }
  void boolean(bool b) { op(b ? 0x88 : 0x89); }
  void integer(int64_t v);
  void str(const std::string& s, bool memo_reuse = false);  // BINUNICODE (+ BINGET when reused)
  void global(const std::string& module, const std::string& name);
  // Ends a torch._utils._rebuild_tensor_v2 call opened by global(...) mark() after its (storage,
  // offset, size, stride) args: requires_grad False, backward_hooks OrderedDict(), TUPLE, REDUCE.
  void rebuild_tensor_tail();
  std::string finish();   // STOP

 private:
  void op(uint8_t c) { out_.push_back(char(c)); }
  void memoize();
  void get(uint32_t idx);
  std::string out_;
  uint32_t next_memo_ = 0;
  std::vector<std::pair<std::string, uint32_t>> memo_;  // "g:module name" / "s:string" -> index
};

}  // namespace rwkv::pickle
