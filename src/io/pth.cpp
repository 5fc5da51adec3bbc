// pth.cpp — PyTorch .pth state dicts (torch.save's zip + pickle) read zero-copy and written so
// that torch.load(weights_only=True) accepts them. Built on zip.h (records) and pickle.h.
#include <algorithm>
#include <cstring>
#include <filesystem>

#include "core/checked.h"
#include "core/error.h"
#include "io/model_file.h"
#include "io/pickle.h"
#include "io/zip.h"

namespace rwkv {

namespace {

struct StorageType { const char* name; DType dtype; };
constexpr StorageType kStorageTypes[] = {
    {"FloatStorage", DType::F32}, {"BFloat16Storage", DType::BF16}, {"HalfStorage", DType::F16},
    {"LongStorage", DType::I64},  {"IntStorage", DType::I32},       {"ByteStorage", DType::U8},
    {"CharStorage", DType::I8},   {"BoolStorage", DType::BOOL},     {"DoubleStorage", DType::F64},
};

const char* storage_name(DType t) {
  for (auto& s : kStorageTypes)
    if (s.dtype == t) return s.name;
  fail("pth", "no torch storage type for dtype {}", dtype_name(t));
}

struct StorageRef { std::string type, key; int64_t numel; };
struct TensorSpec { std::shared_ptr<StorageRef> storage; int64_t offset; Shape size, stride; };

using pickle::Object;
using pickle::Ref;

Ref make_global(const std::string& m, const std::string& n) {
  auto r = Object::make(Object::Global);
  r->s = m;
  r->s2 = n;
  return r;
}
bool is_global(const Ref& r, const char* m, const char* n) {
  return r->kind == Object::Global && r->s == m && r->s2 == n;
}

Shape int_tuple(const Ref& r, const std::string& path, const char* what) {
  if (r->kind != Object::Tuple) fail("pth", "{}: data.pkl: tensor {} is not a tuple", path, what);
  Shape s;
  for (auto& x : r->items) {
    if (x->kind != Object::Int) fail("pth", "{}: data.pkl: tensor {} holds a non-integer", path, what);
    s.push_back(x->i);
  }
  return s;
}

pickle::Hooks torch_hooks(const std::string& path) {
  pickle::Hooks h;
  h.global = [path](const std::string& m, const std::string& n) -> Ref {
    bool ok = (m == "collections" && n == "OrderedDict") ||
              (m == "torch._utils" && (n == "_rebuild_tensor_v2" || n == "_rebuild_parameter")) ||
              (m == "torch" && n.size() > 7 && n.compare(n.size() - 7, 7, "Storage") == 0);
    if (!ok) fail("pth", "{}: data.pkl: global '{}.{}' is not allowed (not a plain state dict of tensors)", path, m, n);
    return make_global(m, n);
  };
  h.persistent_load = [path](const Ref& pid) -> Ref {
    auto& it = pid->items;
    if (pid->kind != Object::Tuple || it.size() != 5 || it[0]->kind != Object::Str || it[0]->s != "storage" ||
        it[1]->kind != Object::Global || it[2]->kind != Object::Str || it[3]->kind != Object::Str ||
        it[4]->kind != Object::Int)
      fail("pth", "{}: data.pkl: persistent id is not ('storage', type, key, location, numel)", path);
    auto r = Object::make(Object::Opaque);
    r->s = "storage";
    r->user = std::make_shared<StorageRef>(StorageRef{it[1]->s2, it[2]->s, it[4]->i});
    return r;
  };
  h.reduce = [path](const Ref& fn, const Ref& args) -> Ref {
    if (is_global(fn, "collections", "OrderedDict")) return Object::make(Object::Dict);
    if (is_global(fn, "torch._utils", "_rebuild_parameter")) {
      if (args->kind != Object::Tuple || args->items.empty()) fail("pth", "{}: data.pkl: bad _rebuild_parameter", path);
      return args->items[0];
    }
    if (is_global(fn, "torch._utils", "_rebuild_tensor_v2")) {
      auto& a = args->items;
      if (args->kind != Object::Tuple || a.size() < 6 || a[0]->kind != Object::Opaque || a[0]->s != "storage" ||
          a[1]->kind != Object::Int)
        fail("pth", "{}: data.pkl: bad _rebuild_tensor_v2 arguments", path);
      auto spec = std::make_shared<TensorSpec>();
      spec->storage = std::static_pointer_cast<StorageRef>(a[0]->user);
      spec->offset = a[1]->i;
      spec->size = int_tuple(a[2], path, "size");
      spec->stride = int_tuple(a[3], path, "stride");
      if (spec->size.size() != spec->stride.size()) fail("pth", "{}: data.pkl: size and stride ranks differ", path);
      auto r = Object::make(Object::Opaque);
      r->s = "tensor";
      r->user = spec;
      return r;
    }
    fail("pth", "{}: data.pkl: call of '{}.{}' is not allowed", path, fn->s, fn->s2);
  };
  return h;
}

// Copies a strided view into a fresh contiguous tensor.
Tensor gather_strided(const uint8_t* base, DType dt, const Shape& size, const Shape& stride) {
  Tensor t = Tensor::empty(dt, size);
  const size_t es = dtype_size(dt);
  const int nd = int(size.size());
  std::vector<int64_t> idx(nd, 0);
  uint8_t* out = static_cast<uint8_t*>(t.data);
  for (int64_t i = 0, n = t.numel(); i < n; i++) {
    int64_t off = 0;
    for (int k = 0; k < nd; k++) off += idx[k] * stride[k];
    std::memcpy(out + i * es, base + off * es, es);
    for (int k = nd - 1; k >= 0; k--) {
      if (++idx[k] < size[k]) break;
      idx[k] = 0;
    }
  }
  return t;
}

// The tensor `key` described by `s`; *record receives the zip record that holds its storage.
Tensor materialize(const TensorSpec& s, const ZipReader& zip, const std::string& prefix, const std::string& key,
                   const ZipEntry** record) {
  const std::string& path = zip.file()->path;
  const StorageType* st = nullptr;
  for (auto& x : kStorageTypes)
    if (s.storage->type == x.name) st = &x;
  if (!st) fail("pth", "{}: tensor '{}': unknown dtype (storage type torch.{})", path, key, s.storage->type);
  const size_t es = dtype_size(st->dtype);
  const std::string rec = prefix + "data/" + s.storage->key;
  const ZipEntry* e = zip.find(rec);
  if (!e) fail("pth", "{}: tensor '{}': record '{}' is missing from the archive", path, key, rec);
  *record = e;
  const auto storage_bytes = checked_mul(uint64_t(std::max<int64_t>(s.storage->numel, 0)), es);
  if (s.storage->numel < 0 || !storage_bytes || e->size < *storage_bytes)
    fail("pth", "{}: tensor '{}': record '{}' holds {} bytes, the storage needs {}", path, key, rec, e->size,
         storage_bytes ? std::to_string(*storage_bytes) : fmt::format("{} x {} (more than 2^64)", s.storage->numel, es));
  // Element count and the furthest element the view touches, checked: a size x stride that wraps
  // around must not pass the bounds check.
  uint64_t numel = 1, last = 0;  // numel: so far, the elements of the dimensions after k
  bool contiguous = true;
  for (int k = int(s.size.size()) - 1; k >= 0; k--) {
    if (s.size[k] < 0 || s.stride[k] < 0) fail("pth", "{}: tensor '{}': negative size or stride", path, key);
    auto n2 = checked_mul(numel, uint64_t(s.size[k]));
    auto reach = s.size[k] ? checked_mul(uint64_t(s.size[k] - 1), uint64_t(s.stride[k])) : std::optional<uint64_t>(0);
    auto last2 = reach ? checked_add(last, *reach) : std::nullopt;
    if (!n2 || !last2)
      fail("pth", "{}: tensor '{}': view {} with strides {} overflows", path, key, shape_str(s.size), shape_str(s.stride));
    if (s.size[k] != 1 && uint64_t(s.stride[k]) != numel) contiguous = false;  // C order: stride = that count
    numel = *n2;
    last = *last2;
  }
  const uint64_t storage_numel = uint64_t(s.storage->numel);
  const auto span = checked_add(last, 1);
  if (numel > 0 && (s.offset < 0 || !span || !range_fits(uint64_t(s.offset), *span, storage_numel)))
    fail("pth", "{}: tensor '{}': view {} at offset {} exceeds its storage of {} elements", path, key,
         shape_str(s.size), s.offset, s.storage->numel);
  // A view with more elements than its storage repeats elements (a stride-0 broadcast): no saved
  // weight is one, and copying it out would allocate from a number the file claims.
  if (numel > storage_numel)
    fail("pth", "{}: tensor '{}': view {} has {} elements over a storage of {} (overlapping or stride-0 views are not "
         "supported)", path, key, shape_str(s.size), numel, s.storage->numel);
  const uint8_t* base = zip.data(*e) + (numel > 0 ? s.offset * es : 0);
  if (!contiguous) return gather_strided(base, st->dtype, s.size, s.stride);
  if (reinterpret_cast<uintptr_t>(base) % es != 0) {  // misaligned record: copy
    Tensor t = Tensor::empty(st->dtype, s.size);
    std::memcpy(t.data, base, t.nbytes());
    return t;
  }
  Tensor t;
  t.dtype = st->dtype;
  t.shape = s.size;
  t.data = const_cast<uint8_t*>(base);
  t.owner = zip.file();  // keeps the mmap alive
  return t;
}

bool g_crc_check = true;

// Checks the CRC-32 of each distinct record (in parallel); a mismatch names the record and the
// tensor stored in it.
void verify_records(const ZipReader& zip, std::vector<std::pair<const ZipEntry*, std::string>> recs) {
  std::sort(recs.begin(), recs.end(), [](auto& a, auto& b) { return a.first < b.first; });
  recs.erase(std::unique(recs.begin(), recs.end(), [](auto& a, auto& b) { return a.first == b.first; }), recs.end());
  std::vector<char> bad(recs.size(), 0);
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < int64_t(recs.size()); i++)
    bad[i] = crc32(zip.data(*recs[i].first), recs[i].first->size) != recs[i].first->crc;
  for (size_t i = 0; i < recs.size(); i++)
    if (bad[i])
      fail("pth", "{}: record '{}'{} fails its CRC-32 check (the file is corrupt: re-download or re-save it)",
           zip.file()->path, recs[i].first->name,
           recs[i].second.empty() ? std::string() : fmt::format(" (tensor '{}')", recs[i].second));
}

std::string archive_name(const std::string& path) {
  std::string stem = std::filesystem::path(path).stem().string();
  std::string r;
  for (char c : stem) r += (std::isalnum(uint8_t(c)) || c == '_' || c == '-') ? c : '_';
  return r.empty() ? "archive" : r;
}

}  // namespace

void set_pth_crc_check(bool on) { g_crc_check = on; }

StateDict load_pth(const std::string& path) {
  auto file = map_file(path);
  if (file->size >= 2 && file->data[0] == 0x80 && file->data[1] <= 5)
    fail("pth", "{}: legacy (pre-zip) torch.save format is not supported; re-save it with torch >= 1.6", path);
  ZipReader zip(file, "pth");
  const ZipEntry* pkl = nullptr;
  for (auto& e : zip.entries()) {
    auto slash = e.name.find('/');
    if (slash != std::string::npos && e.name.compare(slash, std::string::npos, "/data.pkl") == 0) { pkl = &e; break; }
  }
  if (!pkl) fail("pth", "{}: no '<archive>/data.pkl' record (not a torch.save file)", path);
  const std::string prefix = pkl->name.substr(0, pkl->name.size() - 8);  // "<archive>/"
  if (auto* bo = zip.find(prefix + "byteorder"))
    if (std::string(reinterpret_cast<const char*>(zip.data(*bo)), bo->size) != "little")
      fail("pth", "{}: record '{}byteorder' is not 'little'", path, prefix);

  std::vector<std::pair<const ZipEntry*, std::string>> records;  // (record, first tensor key) to check
  if (g_crc_check) verify_records(zip, {{pkl, ""}});
  Ref top = pickle::load(zip.data(*pkl), pkl->size, torch_hooks(path), "pth", path + ": " + pkl->name);
  if (top->kind != Object::Dict) fail("pth", "{}: data.pkl does not hold a dict (a state dict was expected)", path);
  StateDict sd;
  sd.items.reserve(top->items.size() / 2);
  for (size_t i = 0; i + 1 < top->items.size(); i += 2) {
    const Ref& k = top->items[i];
    const Ref& v = top->items[i + 1];
    if (k->kind != Object::Str) fail("pth", "{}: state dict key #{} is not a string", path, i / 2);
    std::string key = k->s;
    if (key.rfind("_forward_module.", 0) == 0) key = key.substr(16);
    if (v->kind != Object::Opaque || v->s != "tensor") fail("pth", "{}: '{}' is not a tensor", path, key);
    if (sd.has(key)) fail("pth", "{}: tensor '{}' appears twice", path, key);
    const ZipEntry* record = nullptr;
    sd.items.emplace_back(key, materialize(*std::static_pointer_cast<TensorSpec>(v->user), zip, prefix, key, &record));
    records.push_back({record, key});
  }
  if (g_crc_check) verify_records(zip, records);
  return sd;
}

void save_pth(const std::string& path, const StateDict& sd) {
  const size_t n = sd.items.size();
  for (size_t i = 0; i < n; i++) {
    storage_name(sd.items[i].second.dtype);
    for (size_t j = 0; j < i; j++)
      if (sd.items[j].first == sd.items[i].first) fail("pth", "{}: tensor '{}' appears twice", path, sd.items[i].first);
  }
  std::vector<uint32_t> crc(n);
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < int64_t(n); i++) crc[i] = crc32(sd.items[i].second.data, sd.items[i].second.nbytes());

  // data.pkl: {key: _rebuild_tensor_v2(('storage', torch.XStorage, 'i', 'cpu', numel), 0, size, stride,
  //            False, OrderedDict()), ...}, as torch.save writes a dict of tensors.
  pickle::Writer w;
  w.empty_dict();
  for (size_t i = 0; i < n; i++) {
    if (i % 1000 == 0) w.mark();
    const auto& [key, t] = sd.items[i];
    w.str(key);
    w.global("torch._utils", "_rebuild_tensor_v2");
    w.mark();
    w.mark();
    w.str("storage", true);
    w.global("torch", storage_name(t.dtype));
    w.str(std::to_string(i));
    w.str("cpu", true);
    w.integer(t.numel());
    w.tuple_mark();
    w.binpersid();
    w.integer(0);
    Shape stride(t.shape.size());
    int64_t acc = 1;
    for (int k = int(t.shape.size()) - 1; k >= 0; k--) { stride[k] = acc; acc *= t.shape[k]; }
    for (const Shape* s : std::initializer_list<const Shape*>{&t.shape, &stride}) {
      if (s->empty()) { w.empty_tuple(); continue; }
      if (s->size() > 3) w.mark();
      for (auto v : *s) w.integer(v);
      if (s->size() > 3) w.tuple_mark(); else w.tuple(s->size());
    }
    w.rebuild_tensor_tail();
    if (i % 1000 == 999 || i + 1 == n) w.setitems();
  }
  const std::string pkl = w.finish();

  uint64_t id_hash = 1469598103934665603ull;  // serialization id: FNV-1a of the pickle and CRCs
  auto mix = [&](const void* p, size_t k) {
    for (size_t j = 0; j < k; j++) id_hash = (id_hash ^ static_cast<const uint8_t*>(p)[j]) * 1099511628211ull;
  };
  mix(pkl.data(), pkl.size());
  mix(crc.data(), crc.size() * 4);
  std::string sid = fmt::format("{:019}{:021}", id_hash % 10000000000000000000ull, (id_hash * 2654435761ull) % 10000000000000000000ull);

  const std::string top = archive_name(path) + "/";
  AtomicFile out(path);
  ZipWriter zip(out);
  zip.add(top + "data.pkl", pkl);
  zip.add(top + ".format_version", "1");
  zip.add(top + ".storage_alignment", "64");
  zip.add(top + "byteorder", "little");
  for (size_t i = 0; i < n; i++)
    zip.add(top + "data/" + std::to_string(i), sd.items[i].second.data, sd.items[i].second.nbytes(), crc[i]);
  zip.add(top + "version", "3\n");
  zip.add(top + ".data/serialization_id", sid);
  zip.finish();
  out.commit();
}

}  // namespace rwkv
