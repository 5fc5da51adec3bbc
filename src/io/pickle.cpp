// pickle.cpp — the torch state-dict pickle subset: a small reader stack machine and a
// protocol-2 writer (see pickle.h).
#include "io/pickle.h"

#include <cstring>
#include <unordered_map>

#include "core/error.h"

namespace rwkv::pickle {

namespace {

struct Machine {
  const uint8_t* d;
  size_t n, pos = 0;
  const Hooks& hooks;
  const char* module;
  const std::string& where;
  std::vector<Ref> stack;
  std::vector<size_t> marks;
  std::unordered_map<uint32_t, Ref> memo;
  std::string last_str;
  size_t op_pos = 0;

  [[noreturn]] void error(const std::string& what) {
    fail(module, "{}: {} at byte {}{}", where, what, op_pos,
         last_str.empty() ? std::string() : fmt::format(" (after '{}')", last_str));
  }
  const uint8_t* take(size_t k) {
    if (k > n - pos) error("truncated pickle");
    const uint8_t* p = d + pos;
    pos += k;
    return p;
  }
  uint64_t le(size_t k) {
    const uint8_t* p = take(k);
    uint64_t v = 0;
    for (size_t i = 0; i < k; i++) v |= uint64_t(p[i]) << (8 * i);
    return v;
  }
  std::string line() {
    size_t e = pos;
    while (e < n && d[e] != '\n') e++;
    if (e >= n) error("truncated GLOBAL");
    std::string s(reinterpret_cast<const char*>(d + pos), e - pos);
    pos = e + 1;
    return s;
  }
  Ref pop() {
    if (stack.empty() || (!marks.empty() && stack.size() <= marks.back())) error("stack underflow");
    Ref r = stack.back();
    stack.pop_back();
    return r;
  }
  Ref& top() {
    if (stack.empty()) error("stack underflow");
    return stack.back();
  }
  std::vector<Ref> pop_mark() {
    if (marks.empty()) error("no MARK on the stack");
    size_t m = marks.back();
    marks.pop_back();
    std::vector<Ref> v(stack.begin() + m, stack.end());
    stack.resize(m);
    return v;
  }
  void push(Ref r) { stack.push_back(std::move(r)); }
  Ref str(Object::Kind k, size_t len) {
    auto r = Object::make(k);
    const uint8_t* p = take(len);
    r->s.assign(reinterpret_cast<const char*>(p), len);
    if (k == Object::Str) last_str = r->s.size() > 80 ? r->s.substr(0, 80) : r->s;
    return r;
  }
  Ref integer(int64_t v) { auto r = Object::make(Object::Int); r->i = v; return r; }
  void set_items(Ref& dict, const std::vector<Ref>& kv) {
    if (dict->kind != Object::Dict) error("SETITEM(S) on a non-dict");
    if (kv.size() % 2) error("odd number of items for SETITEMS");
    for (auto& x : kv) dict->items.push_back(x);
  }
  Ref tuple(std::vector<Ref> v) { auto r = Object::make(Object::Tuple); r->items = std::move(v); return r; }

  Ref run() {
    while (true) {
      op_pos = pos;
      uint8_t op = uint8_t(le(1));
      switch (op) {
        case 0x80: le(1); break;  // PROTO
        case 0x95: le(8); break;  // FRAME
        case '}': push(Object::make(Object::Dict)); break;
        case ']': push(Object::make(Object::List)); break;
        case ')': push(Object::make(Object::Tuple)); break;
        case '(': marks.push_back(stack.size()); break;
        case 't': push(tuple(pop_mark())); break;
        case 0x85: { auto a = pop(); push(tuple({a})); } break;
        case 0x86: { auto b = pop(), a = pop(); push(tuple({a, b})); } break;
        case 0x87: { auto c = pop(), b = pop(), a = pop(); push(tuple({a, b, c})); } break;
        case 'l': { auto r = Object::make(Object::List); r->items = pop_mark(); push(r); } break;
        case 'd': { auto r = Object::make(Object::Dict); set_items(r, pop_mark()); push(r); } break;
        case 'q': memo[uint32_t(le(1))] = top(); break;
        case 'r': memo[uint32_t(le(4))] = top(); break;
        case 0x94: { uint32_t k = uint32_t(memo.size()); memo[k] = top(); } break;
        case 'h': case 'j': {
          auto it = memo.find(uint32_t(le(op == 'h' ? 1 : 4)));
          if (it == memo.end()) error("BINGET of an unknown memo entry");
          push(it->second);
        } break;
        case 'X': push(str(Object::Str, le(4))); break;
        case 0x8c: push(str(Object::Str, le(1))); break;
        case 0x8d: push(str(Object::Str, le(8))); break;
        case 'T': push(str(Object::Str, le(4))); break;  // BINSTRING (py2 str)
        case 'U': push(str(Object::Str, le(1))); break;
        case 'B': push(str(Object::Bytes, le(4))); break;
        case 'C': push(str(Object::Bytes, le(1))); break;
        case 'J': push(integer(int32_t(uint32_t(le(4))))); break;
        case 'K': push(integer(int64_t(le(1)))); break;
        case 'M': push(integer(int64_t(le(2)))); break;
        case 0x8a: {  // LONG1: little-endian two's complement
          size_t k = size_t(le(1));
          if (k > 8) error("integer wider than 64 bits");
          uint64_t v = k ? le(k) : 0;
          if (k && k < 8 && (v >> (8 * k - 1)) & 1) v |= ~0ull << (8 * k);
          push(integer(int64_t(v)));
        } break;
        case 'G': {
          const uint8_t* p = take(8);
          uint64_t u = 0;
          for (int i = 0; i < 8; i++) u = (u << 8) | p[i];
          auto r = Object::make(Object::Float);
          std::memcpy(&r->f, &u, 8);
          push(r);
        } break;
        case 0x88: case 0x89: { auto r = Object::make(Object::Bool); r->i = op == 0x88; push(r); } break;
        case 'N': push(Object::make(Object::None)); break;
        case 'c': { std::string m = line(), nm = line(); push(hooks.global(m, nm)); } break;
        case 0x93: {
          auto nm = pop(), m = pop();
          if (m->kind != Object::Str || nm->kind != Object::Str) error("STACK_GLOBAL needs two strings");
          push(hooks.global(m->s, nm->s));
        } break;
        case 'R': { auto args = pop(), fn = pop(); push(hooks.reduce(fn, args)); } break;
        case 'Q': { auto pid = pop(); push(hooks.persistent_load(pid)); } break;
        case 'b': { auto state = pop(); if (hooks.build) hooks.build(top(), state); } break;
        case 's': { auto v = pop(), k = pop(); set_items(top(), {k, v}); } break;
        case 'u': { auto kv = pop_mark(); set_items(top(), kv); } break;
        case 'a': {
          auto v = pop();
          if (top()->kind != Object::List) error("APPEND to a non-list");
          top()->items.push_back(v);
        } break;
        case 'e': {
          auto v = pop_mark();
          if (top()->kind != Object::List) error("APPENDS to a non-list");
          for (auto& x : v) top()->items.push_back(x);
        } break;
        case '.': {
          if (stack.size() != 1) error("STOP with a stack of " + std::to_string(stack.size()));
          return stack.back();
        }
        default: error(fmt::format("unsupported pickle opcode 0x{:02x}", op));
      }
    }
  }
};

}  // namespace

Ref load(const uint8_t* data, size_t size, const Hooks& hooks, const char* module, const std::string& where) {
  Machine m{data, size, 0, hooks, module, where, {}, {}, {}, {}, 0};
  return m.run();
}

// ---- writer ----
Writer::Writer() { out_ = "\x80\x02"; }

void Writer::memoize() {
  uint32_t k = next_memo_++;
  if (k < 256) { op('q'); op(uint8_t(k)); }
  else { op('r'); out_.append(reinterpret_cast<const char*>(&k), 4); }
}

void Writer::get(uint32_t k) {
  if (k < 256) { op('h'); op(uint8_t(k)); }
  else { op('j'); out_.append(reinterpret_cast<const char*>(&k), 4); }
}

void Writer::rebuild_tensor_tail() {
  boolean(false);
  global("collections", "OrderedDict");
  empty_tuple();
  reduce();
  tuple_mark();
  reduce();
}

void Writer::tuple(size_t n) {
  RWKV_CHECK(n >= 1 && n <= 3, "tuple({})", n);
  op(uint8_t(0x84 + n));
  memoize();
}

void Writer::integer(int64_t v) {
  if (v >= 0 && v < 256) { op('K'); op(uint8_t(v)); }
  else if (v >= 0 && v < 65536) { op('M'); op(uint8_t(v)); op(uint8_t(v >> 8)); }
  else if (v >= INT32_MIN && v <= INT32_MAX) { op('J'); int32_t x = int32_t(v); out_.append(reinterpret_cast<const char*>(&x), 4); }
  else {  // LONG1 with the minimal two's complement width, as pickle writes it
    uint8_t b[8];
    std::memcpy(b, &v, 8);
    int k = 8;
    while (k > 1 && ((b[k - 1] == 0 && !(b[k - 2] & 0x80)) || (b[k - 1] == 0xff && (b[k - 2] & 0x80)))) k--;
    op(0x8a);
    op(uint8_t(k));
    out_.append(reinterpret_cast<const char*>(b), k);
  }
}

void Writer::str(const std::string& s, bool memo_reuse) {
  std::string key = "s:" + s;
  if (memo_reuse)
    for (auto& [k, idx] : memo_)
      if (k == key) { get(idx); return; }
  op('X');
  uint32_t n = uint32_t(s.size());
  out_.append(reinterpret_cast<const char*>(&n), 4);
  out_ += s;
  if (memo_reuse) memo_.emplace_back(key, next_memo_);
  memoize();
}

void Writer::global(const std::string& module, const std::string& name) {
  std::string key = "g:" + module + " " + name;
  for (auto& [k, idx] : memo_)
    if (k == key) { get(idx); return; }
  op('c');
  out_ += module + "\n" + name + "\n";
  memo_.emplace_back(key, next_memo_);
  memoize();
}

std::string Writer::finish() {
  op('.');
  return std::move(out_);
}

}  // namespace rwkv::pickle
