// test_hostile_files.cpp — issue "hostile files and absurd flags": each crafted file (made by
// crafted_files.h, a few hundred bytes) or absurd flag that once crashed `rwkv`, hung it or made it allocate
// gigabytes now ends in exit 1 with a "[module]" message, within seconds, without a signal, with
// peak memory under 2 x the file size plus the binary's own baseline, and with no output left.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "crafted_files.h"
#include "io/model_file.h"
#include "io/zip.h"
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
  EXPECT_LE(r.peak_rss_mib, baseline_rss_mib() + 2 * file_mib + kSlackMiB) << r.err;
  std::printf("[ hostile ] exit %d, signal %d, %.2f s, peak %.1f MiB (baseline %.1f, file %.1f KiB): %s", r.status,
              r.signal, r.seconds, r.peak_rss_mib, baseline_rss_mib(), file_mib * 1024, r.err.c_str());
  if (!no_output.empty()) {
    EXPECT_FALSE(fs::exists(no_output)) << no_output;
    for (auto& e : fs::directory_iterator(fs::path(no_output).parent_path()))
      EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  }
}

}  // namespace

TEST(HostileFiles, Zip64LocatorOffsetNear2To64) {
  TempDir t;
  std::string p = t / "loc.pth";
  write_crafted("zip64_locator", p);
  expect_refused(run_cli_measured("inspect " + p), "pth", p, "corrupt ZIP64 end record");
}

TEST(HostileFiles, LocalHeaderOffsetNear2To64) {
  TempDir t;
  std::string p = t / "local.pth";
  write_crafted("local_header_offset", p);
  expect_refused(run_cli_measured("inspect " + p), "pth", p, "bad local header");
}

TEST(HostileFiles, Zip64EntryCountFromTheFileIsNotAllocated) {
  TempDir t;
  std::string p = t / "count.pth";
  write_crafted("zip64_entry_count", p);
  expect_refused(run_cli_measured("inspect " + p), "pth", p, "1099511627776 entries claimed");
}

TEST(HostileFiles, ViewWhoseSizeTimesStrideOverflows) {
  TempDir t;
  std::string p = t / "view.pth";
  write_crafted("view_overflow_2d", p);
  expect_refused(run_cli_measured("inspect " + p), "pth", p, "overflows");
  write_crafted("view_overflow_wrap", p);
  expect_refused(run_cli_measured("inspect " + p), "pth", p, "overflows");
  write_crafted("view_exceeds_storage", p);
  expect_refused(run_cli_measured("inspect " + p), "pth", p, "view (2, 2) at offset 0 exceeds its storage of 4");
}

TEST(HostileFiles, StrideZeroViewOfABillionElements) {
  TempDir t;
  std::string p = t / "stride0.pth";
  write_crafted("stride0_view", p);
  expect_refused(run_cli_measured("inspect " + p), "pth", p, "stride-0");
}

TEST(HostileFiles, TensorOf2To62ElementsBackedBy64Bytes) {
  TempDir t;
  std::string p = t / "huge.pth", out = t / "out.safetensors";
  write_crafted("huge_tensor_64_bytes", p);
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
  write_crafted("shape_overflow", p);
  expect_refused(run_cli_measured("forward --model " + fixture("rwkv7-L2-D128-V512/model.pth") + " --tokens " + p +
                                  " --out " + out),
                 "safetensors", p, "(needs more than 2^64)", out);
}

TEST(HostileFiles, VocabularyIdsNearInt32Max) {
  TempDir t;
  const std::string v = t / "v.txt", j = t / "tok.json";
  for (auto [name, what] : {std::pair{"id_int32_max", "token id '2147483647' is outside [0, 16777216)"},
                            {"id_2e9", "token id '2000000000' is outside [0, 16777216)"},
                            {"id_far_beyond", "token id 16777215 is far beyond the 2 tokens the file defines"}}) {
    write_crafted(name, v);
    expect_refused(run_cli_measured("tokenize --tokenizer " + v + " --text ab"), "tokenizer", v, what);
  }
  write_crafted("negative_added_id", j);
  expect_refused(run_cli_measured("tokenize --tokenizer " + j + " --text a"), "tokenizer", j, "an added token has id -5");
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
