// test_hostile_files.cpp — issue "hostile files and absurd flags": each crafted file (made here,
// a few hundred bytes) or absurd flag that once crashed `rwkv`, hung it or made it allocate
// gigabytes now ends in exit 1 with a "[module]" message, within seconds, without a signal, with
// peak memory under 2 x the file size plus the binary's own baseline, and with no output left.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "io/model_file.h"
#include "io/pickle.h"
#include "io/zip.h"
#include "test_pth_util.h"
#include "test_util.h"
#include "train/train_log.h"

namespace fs = std::filesystem;
using namespace rwkv;
using namespace rwkv::test;

namespace {

constexpr double kMaxSeconds = 10;     // "within seconds"
constexpr double kSlackMiB = 16;       // allocator and page-cache noise above the baseline

// Peak RSS of a command that reads no file: the binary, its libraries and thread pool.
double baseline_rss_mib() {
  static double b = [] {
    CliRun r = run_cli_measured("magic-prime --tokens 1000 --ctx_len 10");
    EXPECT_EQ(r.status, 0) << r.err;
    return r.peak_rss_mib;
  }();
  return b;
}

// The hostile-input contract for one run of the CLI on `file`.
void expect_refused(const CliRun& r, const std::string& module, const std::string& file, const std::string& what,
                    const std::string& no_output = "") {
  EXPECT_EQ(r.signal, 0) << "killed by signal " << r.signal << "\n" << r.err;
  EXPECT_FALSE(r.timed_out) << r.err;
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("[" + module + "]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
  EXPECT_LT(r.seconds, kMaxSeconds) << r.err;
  const double file_mib = file.empty() ? 0 : double(fs::file_size(file)) / (1 << 20);
  // RWKV_SAVE_CRAFTED=DIR keeps each crafted file (how tests/fuzz/regressions/ was filled)
  static int saved = 0;
  if (const char* dir = std::getenv("RWKV_SAVE_CRAFTED"); dir && !file.empty())
    fs::copy_file(file, fs::path(dir) / (std::to_string(saved++) + "_" + fs::path(file).filename().string()),
                  fs::copy_options::overwrite_existing);
  EXPECT_LE(r.peak_rss_mib, baseline_rss_mib() + 2 * file_mib + kSlackMiB) << r.err;
  std::printf("[ hostile ] exit %d, signal %d, %.2f s, peak %.1f MiB (baseline %.1f, file %.1f KiB): %s", r.status,
              r.signal, r.seconds, r.peak_rss_mib, baseline_rss_mib(), file_mib * 1024, r.err.c_str());
  if (!no_output.empty()) {
    EXPECT_FALSE(fs::exists(no_output)) << no_output;
    for (auto& e : fs::directory_iterator(fs::path(no_output).parent_path()))
      EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  }
}

void patch(const std::string& path, uint64_t at, const void* bytes, size_t n) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(std::streamoff(at));
  f.write(static_cast<const char*>(bytes), std::streamsize(n));
}
void patch64(const std::string& path, uint64_t at, uint64_t v) { patch(path, at, &v, 8); }

uint64_t find_last(const std::string& data, uint32_t sig) {
  for (size_t i = data.size() - 4; i-- > 0;)
    if (std::memcmp(data.data() + i, &sig, 4) == 0) return i;
  ADD_FAILURE() << "signature not found";
  return 0;
}

// One tensor `key` viewing storage "0" (torch.<storage>, `storage_numel` elements) with the given
// size and stride: what _rebuild_tensor_v2 receives.
std::string view_pickle(const std::string& storage, int64_t storage_numel, const std::vector<int64_t>& size,
                        const std::vector<int64_t>& stride) {
  pickle::Writer w;
  w.empty_dict();
  w.str("blocks.0.att.x_r");
  w.global("torch._utils", "_rebuild_tensor_v2");
  w.mark();
  w.mark();
  w.str("storage");
  w.global("torch", storage);
  w.str("0");
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

// A valid one-tensor .pth (16 bytes of data), written with ZIP64 extra fields on every record
// when `zip64` (as records past 4 GiB have them).
void tiny_pth(const std::string& path, bool zip64 = false) {
  AtomicFile out(path);
  ZipWriter z(out);
  z.force_zip64 = zip64;
  z.add("archive/data.pkl", view_pickle("FloatStorage", 4, {4}, {1}));
  z.add("archive/data/0", std::string(16, '\0'));
  z.add("archive/version", "3\n");
  z.finish();
  out.commit();
}

}  // namespace

TEST(HostileFiles, Zip64LocatorOffsetNear2To64) {
  TempDir t;
  std::string p = t / "loc.pth";
  tiny_pth(p);
  patch64(p, find_last(read_file(p), 0x07064b50) + 8, 0xfffffffffffffff0ull);  // end-record offset
  expect_refused(run_cli_measured("inspect " + p), "pth", p, "corrupt ZIP64 end record");
}

TEST(HostileFiles, LocalHeaderOffsetNear2To64) {
  TempDir t;
  std::string p = t / "local.pth";
  tiny_pth(p, /*zip64=*/true);
  const std::string d = read_file(p);
  const uint64_t cd = d.find(std::string("PK\x01\x02", 4));  // the first central record: data.pkl
  ASSERT_NE(cd, std::string::npos);
  uint16_t nl;
  std::memcpy(&nl, d.data() + cd + 28, 2);
  patch64(p, cd + 46 + nl + 4 + 16, 0xffffffffffffffe0ull);  // ZIP64 extra: usize, csize, local offset
  expect_refused(run_cli_measured("inspect " + p), "pth", p, "bad local header");
}

TEST(HostileFiles, Zip64EntryCountFromTheFileIsNotAllocated) {
  TempDir t;
  std::string p = t / "count.pth";
  tiny_pth(p);
  const uint64_t z = find_last(read_file(p), 0x06064b50);
  patch64(p, z + 24, uint64_t(1) << 40);  // entries on this disk
  patch64(p, z + 32, uint64_t(1) << 40);  // entries in total (was reserved as 15 GB+)
  expect_refused(run_cli_measured("inspect " + p), "pth", p, "1099511627776 entries claimed");
}

TEST(HostileFiles, ViewWhoseSizeTimesStrideOverflows) {
  TempDir t;
  std::string p = t / "view.pth";
  write_raw_pth(p, view_pickle("FloatStorage", 4, {int64_t(1) << 32, int64_t(1) << 32}, {int64_t(1) << 32, 1}),
                {{"data/0", std::string(16, '\0')}});
  expect_refused(run_cli_measured("inspect " + p), "pth", p, "overflows");
  // one dimension whose (size - 1) * stride wraps to 0 and passed the storage check
  write_raw_pth(p, view_pickle("FloatStorage", 8, {5, 1}, {int64_t(1) << 62, 1}), {{"data/0", std::string(32, '\0')}});
  expect_refused(run_cli_measured("inspect " + p), "pth", p, "overflows");
  write_raw_pth(p, view_pickle("FloatStorage", 4, {2, 2}, {int64_t(1) << 62, 1}), {{"data/0", std::string(16, '\0')}});
  expect_refused(run_cli_measured("inspect " + p), "pth", p, "view (2, 2) at offset 0 exceeds its storage of 4");
}

TEST(HostileFiles, StrideZeroViewOfABillionElements) {
  TempDir t;
  std::string p = t / "stride0.pth";
  write_raw_pth(p, view_pickle("FloatStorage", 1, {int64_t(1) << 30}, {0}), {{"data/0", std::string(4, '\0')}});
  expect_refused(run_cli_measured("inspect " + p), "pth", p, "stride-0");
}

TEST(HostileFiles, TensorOf2To62ElementsBackedBy64Bytes) {
  TempDir t;
  std::string p = t / "huge.pth", out = t / "out.safetensors";
  write_raw_pth(p, view_pickle("FloatStorage", int64_t(1) << 62, {int64_t(1) << 62}, {1}),
                {{"data/0", std::string(64, '\0')}});
  expect_refused(run_cli_measured("convert " + p + " " + out), "pth", p, "record 'archive/data/0' holds 64 bytes", out);
}

// Acceptance 4: a byte flipped inside a tensor is reported with the record's (and tensor's) name.
TEST(HostileFiles, FlippedByteIsReportedWithItsRecord) {
  TempDir t;
  std::string p = t / "flip.pth";
  fs::copy_file(fixture("rwkv7-L2-D128-V512/model.pth"), p);
  std::string rec;
  uint64_t at = 0;
  {
    const StateDict sd = load_pth(p);
    // the record holding blocks.1.att.value.weight: the tensor's offset in the file's mapping
    const Tensor& w = sd.at("blocks.1.att.value.weight");
    auto map = std::static_pointer_cast<MappedFile>(w.owner);
    ASSERT_TRUE(map);
    const uint64_t off = uint64_t(static_cast<const uint8_t*>(w.data) - map->data);
    ZipReader z(map, "test");
    for (auto& e : z.entries())
      if (e.data_offset == off) { rec = e.name; at = e.data_offset + e.size / 2; }
  }
  ASSERT_FALSE(rec.empty());
  char c = read_file(p)[at] ^ 0x10;
  patch(p, at, &c, 1);
  CliRun r = run_cli_measured("inspect " + p);
  expect_refused(r, "pth", p, "record '" + rec + "' (tensor 'blocks.1.att.value.weight') fails its CRC-32 check");
  std::printf("[ crc ] %s\n", r.err.c_str());
  EXPECT_EQ(run_cli_measured("inspect --skip_crc " + p).status, 0);  // the flag skips the check
}

TEST(HostileFiles, SafetensorsShapeOverflowInForward) {
  TempDir t;
  std::string p = t / "tokens.safetensors", out = t / "o.safetensors";
  const std::string h = R"({"tokens":{"dtype":"I64","shape":[4611686018427387904,4],"data_offsets":[0,8]}})";
  uint64_t n = h.size();
  std::ofstream(p, std::ios::binary) << std::string(reinterpret_cast<const char*>(&n), 8) << h << "abcdefgh";
  expect_refused(run_cli_measured("forward --model " + fixture("rwkv7-L2-D128-V512/model.pth") + " --tokens " + p +
                                  " --out " + out),
                 "safetensors", p, "(needs more than 2^64)", out);
}

TEST(HostileFiles, VocabularyIdsNearInt32Max) {
  TempDir t;
  for (const char* id : {"2147483647", "2000000000"}) {
    std::string v = t / "v.txt";
    std::ofstream(v, std::ios::trunc) << "1 'a' 1\n" << id << " 'b' 1\n";
    expect_refused(run_cli_measured("tokenize --tokenizer " + v + " --text ab"), "tokenizer", v, "is outside [0, 16777216)");
  }
  std::string j = t / "tok.json";
  std::ofstream(j) << R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"added_tokens":[{"id":-5,"content":"x"}]})";
  expect_refused(run_cli_measured("tokenize --tokenizer " + j + " --text a"), "tokenizer", j, "");
}

// Absurd numbers in flags: refused up front, quickly, without a signal.
TEST(HostileFiles, AbsurdFlagsFinishQuickly) {
  TempDir t;
  const std::string m = fixture("rwkv7-L2-D128-V512/model.pth");
  expect_refused(run_cli_measured("generate --model " + m + " --tokenizer bytes --prompt hi --tokens 2 --threads 100000"),
                 "cli", "", "--threads 100000: must be at most");
  // magic-prime near 2^64 (3 * ctx_len and i * i overflowed; trial division never returned)
  CliRun r = run_cli_measured("magic-prime --tokens 18446744073709551615 --ctx_len 1");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_LT(r.seconds, kMaxSeconds);
  EXPECT_NE(r.out.find("--magic_prime 18446744073709551557"), std::string::npos) << r.out;
  expect_refused(run_cli_measured("magic-prime --tokens 100 --ctx_len 9223372036854775808"), "magic-prime", "",
                 "3*ctx_len = more than 2^64");
  // a huge N_EPOCH: refused before writing (it was clamped and ran forever)
  std::ofstream(t / "d.jsonl") << "{\"text\": \"hi\"}\n";
  expect_refused(run_cli_measured("make-data " + (t / "d.jsonl") + " 1000000000000 512 --out " + (t / "d")), "make-data",
                 "", "N_EPOCH 1000000000000 x 1 documents writes at least 14000000000000 bytes", t / "d.bin");
  // a 300-digit number is shortened in the message
  r = run_cli_measured("generate --model " + m + " --threads " + std::string(300, '9'));
  EXPECT_EQ(r.status, 2) << r.err;  // a usage error, as argparse exits
  EXPECT_NE(r.err.find("rwkv generate: error: [cli] "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("999999999999...(300 digits)"), std::string::npos) << r.err;
  EXPECT_LT(r.err.size(), 200u) << r.err;
}

// Unclear messages, made clear: a directory or a path through a file where a file was expected.
TEST(HostileFiles, DirectoriesAndPathsThroughFiles) {
  TempDir t;
  const std::string m = fixture("rwkv7-L2-D128-V512/model.pth");
  std::ofstream(t / "afile") << "x";
  expect_refused(run_cli_measured("generate --model " + m + " --tokenizer " + t.path + " --prompt hi --tokens 2"),
                 "tokenizer", "", t.path + ": is a directory (a vocabulary file was expected)");
  expect_refused(run_cli_measured("generate --model " + m + " --tokenizer bytes --prompt-file " + t.path + " --tokens 2"),
                 "generate", "", t.path + ": is a directory (a prompt file was expected)");
  expect_refused(run_cli_measured("tokenize " + t.path), "tokenize", "", t.path + ": is a directory");
  expect_refused(run_cli_measured("inspect " + t.path), "io", "", t.path + ": is a directory");
  expect_refused(run_cli_measured("generate --model " + m + " --tokenizer bytes --prompt-file " + (t / "afile/p.txt")),
                 "generate", "", "a part of the path is a file, not a directory");
  // outputs: never a temp-file name in the message
  CliRun r = run_cli_measured("convert " + m + " " + (t / "afile/x.safetensors"));
  expect_refused(r, "io", "", "x.safetensors: cannot write: a part of the path is a file, not a folder");
  EXPECT_EQ(r.err.find(".tmp."), std::string::npos) << r.err;
  r = run_cli_measured("convert " + m + " " + (t / "no/such/dir/x.pth"));
  expect_refused(r, "io", "", "the folder '" + (t / "no/such/dir") + "' does not exist");
  EXPECT_EQ(r.err.find(".tmp."), std::string::npos) << r.err;
}

// Out of memory (here: an address-space limit) is a "[core]"/"[memory]" message and exit 1, never
// a bare std::bad_alloc or a signal.
TEST(HostileFiles, OutOfMemoryIsAClearError) {
  TempDir t;
  const std::string cmd = "sh -c 'ulimit -v 600000; exec " + std::string(RWKV_BIN) +
                          " init --n_layer 24 --n_embd 2048 --vocab_size 65536 --dtype fp32 --out " + (t / "x.pth") +
                          "' > " + (t / "out") + " 2> " + (t / "err");
  const int st = std::system(cmd.c_str());
  const std::string err = read_file(t / "err");
  ASSERT_TRUE(WIFEXITED(st)) << err;
  EXPECT_EQ(WEXITSTATUS(st), 1) << err;
  EXPECT_TRUE(err.find("[core] out of memory") != std::string::npos || err.find("[memory] out of memory") != std::string::npos)
      << err;
  EXPECT_EQ(err.find("std::bad_alloc"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(t / "x.pth"));
}

// Temp files of a killed save ("<out>.tmp.<pid>", the pid gone) are removed by the next save to
// that path; a live process's temp and other files are left alone.
TEST(HostileFiles, TempFilesOfDeadRunsAreRemoved) {
  TempDir t;
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  const std::string out = t / "x.safetensors";
  const std::string stale = out + ".tmp." + std::to_string(dead), live = out + ".tmp." + std::to_string(getppid()),
                    other = t / "y.safetensors.tmp." + std::to_string(dead);
  for (auto& f : {stale, live, other}) std::ofstream(f) << "partial";
  CliRun r = run_cli_measured("convert " + fixture("rwkv7-L2-D128-V512/model.pth") + " " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(other));
}

// metrics.jsonl on a full disk (here: a file-size limit): the partial line is cut back and the
// error names the cause; every line left is whole JSON.
TEST(HostileFiles, MetricsLineOnAFullDisk) {
  TempDir t;
  const std::string msg_file = t / "msg";
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim {1000, 1000};
    setrlimit(RLIMIT_FSIZE, &lim);
    std::string msg = "(no error)";
    try {
      rwkv::train::RunLogs logs(t.path);
      for (int i = 0; i < 1000; i++) logs.step_metrics(i, 5.25, 6e-4, 1.5, 4096 * i, 1234.5);
    } catch (const Error& e) {
      msg = e.what();
    }
    lim = {RLIM_INFINITY, RLIM_INFINITY};
    setrlimit(RLIMIT_FSIZE, &lim);
    std::ofstream(msg_file) << msg;
    _exit(0);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st));
  const std::string msg = read_file(msg_file), metrics = read_file(t / "metrics.jsonl");
  EXPECT_NE(msg.find("[train] " + (t / "metrics.jsonl") + ": write failed"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("Inappropriate ioctl"), std::string::npos) << msg;
  ASSERT_FALSE(metrics.empty());
  EXPECT_EQ(metrics.back(), '\n');
  size_t lines = 0;
  for (size_t a = 0, b; (b = metrics.find('\n', a)) != std::string::npos; a = b + 1, lines++)
    EXPECT_NO_THROW((void)nlohmann::json::parse(metrics.substr(a, b - a))) << metrics.substr(a, b - a);
  EXPECT_GT(lines, 3u);
  EXPECT_LE(metrics.size(), 1000u);
}
