// cmd_magic_prime.cpp — `rwkv magic-prime (--tokens N | --data PREFIX) --ctx_len L`: the
// magic prime for RWKV-LM's sampler, printed as make_data.py prints it.
#include <fmt/format.h>

#include <cstdint>
#include <string>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "core/error.h"
#include "data/binidx.h"
#include "data/magic_prime.h"

static int run(int argc, char** argv) {
  CLI::App app{"Print the magic prime (largest prime p = 2 mod 3 with p <= tokens/ctx_len - 1) "
               "and the train.py flags, as make_data.py does"};
  uint64_t tokens = 0, ctx_len = 0;
  std::string data;
  auto* t = app.add_option("--tokens", tokens, "number of tokens in the data");
  auto* d = app.add_option("--data", data, "binidx prefix (reads PREFIX.idx/.bin and counts the tokens)");
  t->excludes(d);
  app.add_option("--ctx_len,--ctx-len", ctx_len, "context length")->required()->check(CLI::PositiveNumber);
  int code = 0;
  if (!rwkv::cli::parse(app, argc, argv, &code)) return code;
  if (t->count() == 0 && d->count() == 0) rwkv::fail("magic-prime", "give --tokens N or --data PREFIX");
  if (!data.empty()) tokens = rwkv::BinidxReader(data).num_tokens();
  std::string report = rwkv::magic_prime_report(tokens, ctx_len);
  if (report.empty())
    rwkv::fail("magic-prime", "{} tokens are too few for ctx_len {}: make_data.py needs at least 3*ctx_len = {} "
               "tokens for a magic prime", tokens, ctx_len, (unsigned __int128)ctx_len * 3 > UINT64_MAX ? std::string("more than 2^64") : std::to_string(ctx_len * 3));
  fmt::print("{}", report);
  return 0;
}

static rwkv::cli::Command reg{"magic-prime", "print the magic prime for a token count or binidx data", run};
