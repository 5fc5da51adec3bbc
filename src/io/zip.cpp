// zip.cpp — STORED-only ZIP reader/writer with ZIP64 (see zip.h for why it is hand-written).
#include "io/zip.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "core/checked.h"
#include "core/error.h"

namespace rwkv {

// ---- CRC-32 (polynomial 0xEDB88320), slicing by 8 ----
namespace {
struct CrcTables {
  uint32_t t[8][256];
  CrcTables() {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
      for (int s = 1; s < 8; s++) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
};
const CrcTables& crc_tables() {
  static const CrcTables tables;
  return tables;
}

uint16_t rd16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
uint32_t rd32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
uint64_t rd64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kEnd64Sig = 0x06064b50, kLoc64Sig = 0x07064b50;
constexpr uint64_t kMax32 = 0xffffffffull;
}  // namespace

uint32_t crc32(const void* data, size_t n, uint32_t crc) {
  const auto& T = crc_tables().t;
  const uint8_t* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
  while (n >= 8) {
    uint32_t a = rd32(p) ^ crc, b = rd32(p + 4);
    crc = T[7][a & 0xff] ^ T[6][(a >> 8) & 0xff] ^ T[5][(a >> 16) & 0xff] ^ T[4][a >> 24] ^
          T[3][b & 0xff] ^ T[2][(b >> 8) & 0xff] ^ T[1][(b >> 16) & 0xff] ^ T[0][b >> 24];
    p += 8;
    n -= 8;
  }
  while (n--) crc = T[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

// ---- reader ----
ZipReader::ZipReader(std::shared_ptr<MappedFile> file, const char* module) : file_(std::move(file)) {
  const uint8_t* d = file_->data;
  const uint64_t n = file_->size;
  const std::string& path = file_->path;
  const bool starts_like_zip = n >= 4 && rd32(d) == kLocalSig;
  int64_t eocd = -1;
  if (n >= 22) {
    int64_t lo = std::max<int64_t>(0, int64_t(n) - 22 - 65535);
    for (int64_t i = int64_t(n) - 22; i >= lo; i--)
      if (rd32(d + i) == kEndSig) { eocd = i; break; }
  }
  if (eocd < 0) {
    if (starts_like_zip) fail(module, "{}: truncated zip archive (no end-of-central-directory record)", path);
    fail(module, "{}: not a zip archive (a .pth must be a torch.save zip file)", path);
  }
  uint64_t count = rd16(d + eocd + 10), cd_size = rd32(d + eocd + 12), cd_off = rd32(d + eocd + 16);
  if (eocd >= 20 && rd32(d + eocd - 20) == kLoc64Sig) {
    uint64_t z = rd64(d + eocd - 20 + 8);
    if (!range_fits(z, 56, n) || rd32(d + z) != kEnd64Sig)
      fail(module, "{}: corrupt ZIP64 end record (offset {} in a file of {} bytes)", path, z, n);
    count = rd64(d + z + 32);
    cd_size = rd64(d + z + 40);
    cd_off = rd64(d + z + 48);
  }
  if (!range_fits(cd_off, cd_size, n)) fail(module, "{}: truncated zip archive (central directory outside the file)", path);
  // Each central record takes at least 46 bytes: a larger count is a lie, not a reason to allocate.
  if (count > cd_size / 46)
    fail(module, "{}: corrupt zip archive: {} entries claimed, the {}-byte central directory holds at most {}", path,
         count, cd_size, cd_size / 46);
  uint64_t p = cd_off, end = cd_off + cd_size;
  entries_.reserve(count);
  for (uint64_t i = 0; i < count; i++) {
    if (p + 46 > end || rd32(d + p) != kCentralSig) fail(module, "{}: corrupt zip central directory (entry {})", path, i);
    uint16_t method = rd16(d + p + 10), nl = rd16(d + p + 28), el = rd16(d + p + 30), cl = rd16(d + p + 32);
    if (p + 46 + nl + el + cl > end) fail(module, "{}: corrupt zip central directory (entry {})", path, i);
    ZipEntry e;
    e.crc = rd32(d + p + 16);
    uint64_t csize = rd32(d + p + 20), usize = rd32(d + p + 24), local = rd32(d + p + 42);
    e.name.assign(reinterpret_cast<const char*>(d + p + 46), nl);
    // ZIP64 extended information: only the fields that are 0xffffffff above, in this order.
    for (uint64_t x = p + 46 + nl, xe = x + el; x + 4 <= xe;) {
      uint16_t id = rd16(d + x), len = rd16(d + x + 2);
      if (id == 1) {
        uint64_t q = x + 4, qe = std::min<uint64_t>(q + len, xe);
        auto take = [&](uint64_t& v) {
          if (v != kMax32) return;
          if (q + 8 > qe) fail(module, "{}: record '{}': short ZIP64 extra field", path, e.name);
          v = rd64(d + q);
          q += 8;
        };
        take(usize);
        take(csize);
        take(local);
      }
      x += 4 + len;
    }
    if (method != 0) fail(module, "{}: record '{}' is compressed (method {}); only stored records are supported", path, e.name, method);
    if (csize != usize) fail(module, "{}: record '{}': stored size {} != size {}", path, e.name, csize, usize);
    if (!range_fits(local, 30, n) || rd32(d + local) != kLocalSig)
      fail(module, "{}: record '{}': bad local header (truncated or corrupt file)", path, e.name);
    e.data_offset = local + 30 + rd16(d + local + 26) + rd16(d + local + 28);
    e.size = usize;
    if (!range_fits(e.data_offset, e.size, n))
      fail(module, "{}: record '{}' extends past the end of the file (truncated)", path, e.name);
    entries_.push_back(std::move(e));
    p += 46 + nl + el + cl;
  }
}

const ZipEntry* ZipReader::find(const std::string& name) const {
  for (auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

// ---- writer ----
namespace {
struct Buf {
  std::string s;
  void u16(uint16_t v) { s.append(reinterpret_cast<const char*>(&v), 2); }
  void u32(uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); }
  void u64(uint64_t v) { s.append(reinterpret_cast<const char*>(&v), 8); }
};
constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01
}  // namespace

void ZipWriter::add(const std::string& name, const void* data, uint64_t size, uint32_t crc) {
  const uint64_t off = out_.offset();
  const bool z64 = force_zip64 || size >= kMax32;
  const uint64_t z64_len = z64 ? 20 : 0;  // id, len, usize, csize
  const uint64_t start = off + 30 + name.size() + z64_len + 4;
  const uint64_t pad = (kAlign - start % kAlign) % kAlign;
  Buf b;
  b.u32(kLocalSig);
  b.u16(z64 ? 45 : 20);
  b.u16(0x0800);  // names are UTF-8
  b.u16(0);       // stored
  b.u16(0);
  b.u16(kDosDate);
  b.u32(crc);
  b.u32(z64 ? uint32_t(kMax32) : uint32_t(size));
  b.u32(z64 ? uint32_t(kMax32) : uint32_t(size));
  b.u16(uint16_t(name.size()));
  b.u16(uint16_t(z64_len + 4 + pad));
  b.s += name;
  if (z64) {
    b.u16(1);
    b.u16(16);
    b.u64(size);
    b.u64(size);
  }
  b.s += "FB";  // torch's padding field
  b.u16(uint16_t(pad));
  b.s.append(pad, 'Z');
  out_.write(b.s);
  if (size) out_.write(data, size);
  recs_.push_back({name, off, size, crc});
}

void ZipWriter::finish() {
  const uint64_t cd_off = out_.offset();
  for (auto& r : recs_) {
    const bool big_size = force_zip64 || r.size >= kMax32, big_off = force_zip64 || r.offset >= kMax32;
    Buf x;
    if (big_size || big_off) {
      x.u16(1);
      x.u16(uint16_t((big_size ? 16 : 0) + (big_off ? 8 : 0)));
      if (big_size) { x.u64(r.size); x.u64(r.size); }
      if (big_off) x.u64(r.offset);
    }
    Buf b;
    b.u32(kCentralSig);
    b.u16(45);  // made by: MS-DOS, spec 4.5
    b.u16(x.s.empty() ? 20 : 45);
    b.u16(0x0800);
    b.u16(0);
    b.u16(0);
    b.u16(kDosDate);
    b.u32(r.crc);
    b.u32(big_size ? uint32_t(kMax32) : uint32_t(r.size));
    b.u32(big_size ? uint32_t(kMax32) : uint32_t(r.size));
    b.u16(uint16_t(r.name.size()));
    b.u16(uint16_t(x.s.size()));
    b.u16(0);  // comment
    b.u16(0);  // disk
    b.u16(0);  // internal attributes
    b.u32(0);  // external attributes
    b.u32(big_off ? uint32_t(kMax32) : uint32_t(r.offset));
    b.s += r.name;
    b.s += x.s;
    out_.write(b.s);
  }
  const uint64_t cd_size = out_.offset() - cd_off, z64_off = out_.offset(), n = recs_.size();
  Buf b;  // ZIP64 end record + locator (always, as torch writes them), then the classic end record
  b.u32(kEnd64Sig);
  b.u64(44);
  b.u16(45);
  b.u16(45);
  b.u32(0);
  b.u32(0);
  b.u64(n);
  b.u64(n);
  b.u64(cd_size);
  b.u64(cd_off);
  b.u32(kLoc64Sig);
  b.u32(0);
  b.u64(z64_off);
  b.u32(1);
  b.u32(kEndSig);
  b.u16(0);
  b.u16(0);
  b.u16(uint16_t(std::min<uint64_t>(n, 0xffff)));
  b.u16(uint16_t(std::min<uint64_t>(n, 0xffff)));
  b.u32(uint32_t(std::min(cd_size, kMax32)));
  b.u32(uint32_t(std::min(cd_off, kMax32)));
  b.u16(0);
  out_.write(b.s);
}

}  // namespace rwkv
