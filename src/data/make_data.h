// make_data.h — jsonl -> binidx, the job of RWKV-LM's make_data.py: the non-empty lines repeated
// n_epoch times (each pass shuffled unless told not to), the "text" of each tokenized, token 0
// after each document, every document checked to round-trip, then the summary and magic prime.
// Streaming (the input is memory-mapped and indexed by line offsets, never loaded), tokenized in
// parallel batches and written in order; outputs appear only when everything succeeded.
#pragma once
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace rwkv {

struct MakeDataOptions {
  std::string input;             // .jsonl, one {"text": ...} per line
  int64_t n_epoch = 1;           // passes over the data
  int64_t ctx_len = 4096;        // for the magic prime
  std::string tokenizer = "world";
  std::string out_prefix;        // empty: the input's name without extension, in the current folder
  std::optional<uint64_t> seed;  // shuffle seed (= Python's random.seed(seed)); none: random
  bool shuffle = true;
  int threads = 0;               // <= 0: all cores
  bool progress = true;          // progress lines on stderr
};

struct MakeDataResult {
  std::string prefix;            // outputs are prefix.bin / prefix.idx
  uint64_t lines = 0;            // non-empty input lines
  uint64_t docs = 0, tokens = 0;
  uint64_t text_bytes = 0;       // UTF-8 bytes of all texts tokenized (n_epoch passes)
  uint64_t magic_prime = 0;      // 0 when tokens < 3*ctx_len
  uint64_t seed = 0;             // the shuffle seed used
  double seconds = 0;             // the whole job, tokenizer load and read-back included
  double build_seconds = 0;       // tokenizing and writing only
};

// The prefix make_data() writes to: opt.out_prefix, else the input's name without extension.
std::string make_data_prefix(const MakeDataOptions& opt);

// Prints make_data.py's lines to `out` (nullptr: silent). Throws "[make-data] <file>:<line>: ..."
// for bad input (unreadable file, invalid UTF-8 or JSON, missing or non-string "text", a text
// that does not round-trip), leaving no output files behind.
MakeDataResult make_data(const MakeDataOptions& opt, std::FILE* out);

}  // namespace rwkv
