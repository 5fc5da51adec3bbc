// make_data.cpp — see make_data.h. Plan: (1) map the input and index the byte offset of every
// non-empty line (checking UTF-8, so errors name the line); (2) per pass, shuffle the offsets
// exactly as Python's random.shuffle would shuffle the lines; (3) cut the pass into batches of a
// few MB, tokenize a batch with OpenMP threads (JSON -> text -> ids -> round-trip check) and
// append it to the binidx writer in order; (4) read the result back and print what
// make_data.py prints.
#include "data/make_data.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "core/checked.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/threads.h"
#include "data/binidx.h"
#include "data/magic_prime.h"
#include "data/make_data_json.h"
#include "data/make_data_shuffle.h"
#include "io/mmap.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer/world.h"

namespace fs = std::filesystem;

namespace rwkv {

namespace {

// Lines as Python's text mode splits them: terminated by "\n", "\r\n" or a lone "\r".
struct Lines {
  const char* d;
  size_t n;
  // {end of the line starting at pos (terminator excluded), start of the next line}
  std::pair<size_t, size_t> at(size_t pos) const {
    const char* nl = static_cast<const char*>(std::memchr(d + pos, '\n', n - pos));
    size_t e = nl ? size_t(nl - d) : n;
    if (const char* cr = static_cast<const char*>(std::memchr(d + pos, '\r', e - pos))) {
      size_t r = size_t(cr - d);
      return {r, (nl && r + 1 == e) ? e + 1 : r + 1};
    }
    return {e, nl ? e + 1 : n};
  }
  uint64_t number_of(size_t off) const {  // 1-based line number of the line holding `off`
    uint64_t no = 1;
    for (size_t pos = 0;;) {
      size_t next = at(pos).second;
      if (next > off || next >= n) return no;
      pos = next;
      ++no;
    }
  }
};

// The text of one document and its tokens (token 0 appended), or what went wrong.
struct Slot {
  size_t begin = 0, end = 0;  // stripped line in the input
  std::vector<uint16_t> tokens;
  std::string error;
};

struct Worker {  // per-thread scratch
  std::string text, err;
  std::vector<int32_t> ids;
};

void process(const Tokenizer& tok, const WorldTokenizer* world, const char* data, Slot& s, Worker& w) {
  s.tokens.clear();
  s.error.clear();
  std::string_view line(data + s.begin, s.end - s.begin);
  if (!extract_jsonl_text(line, w.text, w.err)) {
    s.error = w.err;
    return;
  }
  const std::string& text = w.text;
  w.ids.clear();
  if (world) world->encode_append(text, w.ids);
  else w.ids = tok.encode(text);
  // Round trip: decode(encode(text)) == text.
  size_t mismatch = std::string::npos;
  if (world) {
    if (!world->round_trips(w.ids.data(), w.ids.size(), text)) {  // rare: find where it breaks
      size_t pos = 0;
      for (int32_t id : w.ids) {
        std::string_view b = world->token_bytes(id);
        if (b.empty() || text.compare(pos, b.size(), b) != 0) break;
        pos += b.size();
      }
      mismatch = pos;
    }
  } else {
    std::string back = tok.decode(w.ids);
    if (back != text) {
      size_t k = 0;
      while (k < back.size() && k < text.size() && back[k] == text[k]) ++k;
      mismatch = k;
    }
  }
  if (mismatch != std::string::npos) {
    s.error = fmt::format("the text does not round-trip through the {} tokenizer (decode(encode(text)) "
                          "differs from byte {} of the text on)", tok.name(), mismatch);
    return;
  }
  s.tokens.resize(w.ids.size() + 1);
  for (size_t k = 0; k < w.ids.size(); ++k) {
    if (w.ids[k] < 0 || w.ids[k] > 65535) {
      s.error = fmt::format("token id {} does not fit binidx's uint16", w.ids[k]);
      return;
    }
    s.tokens[k] = uint16_t(w.ids[k]);
  }
  s.tokens.back() = 0;  // end of document
}

// make_data.py's tokenizer.decode: the text, or U+FFFD when the bytes are not valid UTF-8.
std::string preview(const Tokenizer& tok, const uint16_t* t, size_t n) {
  std::vector<int32_t> ids(t, t + n);
  try {
    std::string s = tok.decode(ids);
    return utf8::valid(s) ? s : "\xEF\xBF\xBD";
  } catch (const Error&) {
    return "\xEF\xBF\xBD";
  }
}

}  // namespace

std::string make_data_prefix(const MakeDataOptions& opt) {
  return opt.out_prefix.empty() ? fs::path(opt.input).stem().string() : opt.out_prefix;
}

// Every document is at least one token (the 0 after it: 2 bytes in .bin) plus 12 bytes of index:
// an N_EPOCH whose output cannot fit on the disk is refused before anything is written.
static void check_output_fits(const std::string& prefix, uint64_t lines, int64_t n_epoch) {
  fs::path dir = fs::absolute(fs::path(prefix)).parent_path();
  while (!dir.empty() && !fs::exists(dir) && dir != dir.parent_path()) dir = dir.parent_path();
  std::error_code ec;
  const uint64_t avail = fs::space(dir, ec).available;
  auto docs = checked_mul(lines, uint64_t(n_epoch));
  auto least = docs ? checked_mul(*docs, 14) : std::nullopt;
  if (!least || (!ec && *least > avail))
    fail("make-data", "N_EPOCH {} x {} documents writes at least {} bytes (2 per document in .bin, 12 in .idx); {} has "
         "{} bytes free", n_epoch, lines, least ? std::to_string(*least) : std::string("more than 2^64"), dir.string(),
         avail);
}

MakeDataResult make_data(const MakeDataOptions& opt, std::FILE* out) {
  auto t0 = std::chrono::steady_clock::now();
  auto say = [&](const std::string& s) {
    if (out) {
      std::fputs(s.c_str(), out);
      std::fflush(out);
    }
  };
  const std::string& in = opt.input;
  if (opt.n_epoch < 1) fail("make-data", "N_EPOCH must be at least 1, got {}", opt.n_epoch);
  if (opt.ctx_len < 1) fail("make-data", "CTX_LEN must be at least 1, got {}", opt.ctx_len);
  MakeDataResult res;
  res.prefix = make_data_prefix(opt);
  const std::string name = res.prefix;
  auto tok = make_tokenizer(opt.tokenizer);
  if (tok->vocab_size() > 65536)
    fail("make-data", "tokenizer {} has {} ids; binidx stores uint16 tokens (at most 65536)", tok->name(), tok->vocab_size());
  const auto* world = dynamic_cast<const WorldTokenizer*>(tok.get());

  // (1) Map and index the input.
  if (!fs::exists(in)) fail("make-data", "{}: no such file", in);
  if (fs::is_directory(in)) fail("make-data", "{}: is a directory, expected a .jsonl file", in);
  std::shared_ptr<MappedFile> map;
  try {
    map = map_file(in);
  } catch (const Error& e) {
    fail("make-data", "{}: cannot read: {}", in, e.what());
  }
  const char* data = reinterpret_cast<const char*>(map->data);
  Lines lines{data, map->size};
  say(fmt::format("### Convert {} to {}.bin/idx...\n", in, name));
  const int nt = opt.threads > 0 ? opt.threads : num_threads();
  // The offsets of the non-empty lines, in file order; chunks of the file (cut after a '\n')
  // are indexed in parallel.
  std::vector<uint64_t> starts;
  uint64_t pass_bytes = 0;
  {
    const size_t n = map->size;
    const size_t nchunks = n < (size_t(8) << 20) ? 1 : size_t(nt) * 8;
    std::vector<size_t> cut(nchunks + 1, n);
    cut[0] = 0;
    for (size_t c = 1; c < nchunks; ++c) {
      size_t p = std::max(cut[c - 1], n / nchunks * c);
      const char* nl = p < n ? static_cast<const char*>(std::memchr(data + p, '\n', n - p)) : nullptr;
      cut[c] = nl ? size_t(nl - data) + 1 : n;
    }
    struct Chunk {
      std::vector<uint64_t> starts;
      uint64_t bytes = 0;
      size_t bad = SIZE_MAX, bad_line = 0;  // first invalid UTF-8 byte and the start of its line
    };
    std::vector<Chunk> chunks(nchunks);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (size_t c = 0; c < nchunks; ++c) {
      Chunk& ch = chunks[c];
      for (size_t pos = cut[c]; pos < cut[c + 1];) {
        auto [e, next] = lines.at(pos);
        std::string_view l(data + pos, e - pos);
        size_t ok = utf8::valid_prefix(l);
        if (ok != l.size()) {
          ch.bad = pos + ok;
          ch.bad_line = pos;
          break;
        }
        std::string_view st = utf8::py_strip(l);
        if (!st.empty()) {
          ch.starts.push_back(uint64_t(st.data() - data));
          ch.bytes += st.size();
        }
        pos = next;
      }
    }
    size_t total = 0;
    for (auto& ch : chunks) {
      if (ch.bad != SIZE_MAX)
        fail("make-data", "{}:{}: invalid UTF-8 (byte 0x{:02x} at column {})", in, lines.number_of(ch.bad),
             (unsigned char)data[ch.bad], ch.bad - ch.bad_line + 1);
      total += ch.starts.size();
    }
    starts.reserve(total);
    for (auto& ch : chunks) {
      starts.insert(starts.end(), ch.starts.begin(), ch.starts.end());
      pass_bytes += ch.bytes;
      std::vector<uint64_t>().swap(ch.starts);
    }
  }
  res.lines = starts.size();
  say(fmt::format("### Found {} non-empty lines in {}\n", starts.size(), in));
  if (starts.empty()) fail("make-data", "{}: no non-empty lines, nothing to write", in);
  check_output_fits(res.prefix, starts.size(), opt.n_epoch);

  if (opt.shuffle) {
    res.seed = opt.seed ? *opt.seed : (uint64_t(std::random_device{}()) << 32 | std::random_device{}());
    for (int64_t e = 0; e < opt.n_epoch; ++e) say(fmt::format("Shuffle: {} out of {}\n", e + 1, opt.n_epoch));
  } else {
    for (int64_t e = 0; e < opt.n_epoch; ++e) say(fmt::format("Pass: {} out of {} (no shuffle)\n", e + 1, opt.n_epoch));
  }
  say("### Building binidx...\n");

  // (2)+(3) Tokenize pass by pass, batch by batch.
  if (auto parent = fs::path(res.prefix).parent_path(); !parent.empty()) fs::create_directories(parent);
  BinidxWriter writer(res.prefix);
  PyRandom rng(res.seed);
  std::vector<Worker> workers(static_cast<size_t>(nt));
  // Two batches: the threads tokenize one while a writer thread appends the other to the .bin.
  struct Batch {
    std::vector<Slot> slots;
    size_t n = 0;
  } batches[2];
  int cur = 0;
  std::future<void> writing;  // declared after `writer`: finishes before the writer goes away
  const uint64_t batch_bytes = std::max<uint64_t>(uint64_t(4) << 20, uint64_t(nt) << 21);
  Progress prog("make-data", double(pass_bytes) * double(opt.n_epoch), "B");
  auto t_build = std::chrono::steady_clock::now();
  double done_bytes = 0;
  for (int64_t epoch = 0; epoch < opt.n_epoch; ++epoch) {
    if (opt.shuffle) rng.shuffle(starts);
    for (size_t k = 0; k < starts.size();) {
      Batch& B = batches[cur];
      auto& slots = B.slots;
      size_t nb = 0;
      uint64_t bytes = 0;
      while (k < starts.size() && (nb == 0 || (bytes < batch_bytes && nb < 65536))) {
        if (slots.size() <= nb) slots.emplace_back();
        Slot& s = slots[nb++];
        s.begin = starts[k++];
        s.end = s.begin + utf8::py_strip(std::string_view(data + s.begin, lines.at(s.begin).first - s.begin)).size();
        bytes += s.end - s.begin;
      }
      B.n = nb;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
      for (size_t i = 0; i < nb; ++i) {
        Worker& w = workers[size_t(omp_get_thread_num())];
        try {
          process(*tok, world, data, slots[i], w);
        } catch (const std::exception& e) {
          slots[i].error = e.what();
        }
      }
      for (size_t i = 0; i < nb; ++i) {
        const Slot& s = slots[i];
        if (!s.error.empty()) {
          if (writing.valid()) writing.get();
          fail("make-data", "{}:{}: {}", in, lines.number_of(s.begin), s.error);
        }
        res.tokens += s.tokens.size();
        res.text_bytes += s.end - s.begin;
      }
      if (writing.valid()) writing.get();  // the other batch is written: its buffers are free
      writing = std::async(std::launch::async, [&writer, &B] {
        for (size_t i = 0; i < B.n; ++i) writer.add_document(B.slots[i].tokens.data(), B.slots[i].tokens.size());
      });
      cur ^= 1;
      res.docs += nb;
      done_bytes += double(bytes);
      if (opt.progress) prog.update(done_bytes, fmt::format("{} docs", res.docs));
    }
  }
  if (writing.valid()) writing.get();
  writer.finalize();
  res.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_build).count();
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (opt.progress) prog.finish(fmt::format("{} docs, {} tokens", res.docs, res.tokens));
  say("done\n");

  // (4) Read it back and print what make_data.py prints.
  say("### Verifying result...\n");
  BinidxReader r(res.prefix);
  const size_t kPreview = 100;
  for (size_t idx : {size_t(0), r.num_docs() - 1}) {
    size_t size = r.doc_length(idx);
    const uint16_t* dix = r.tokens() + r.doc_offset(idx);
    say(fmt::format("{}[{} idx {} sz {}]\n", std::string(70, '-'), name, idx, size));
    if (size == 0 || dix[size - 1] != 0) fail("make-data", "{}.bin: document {} does not end in token 0", res.prefix, idx);
    size_t n = size - 1;
    if (n > kPreview) {
      say(preview(*tok, dix, kPreview) + "\n");
      std::string dots;
      for (int i = 0; i < 30; ++i) dots += "\xC2\xB7 ";
      say(dots + "\n");
      say(preview(*tok, dix + n - kPreview, kPreview) + "\n");
    } else {
      say(preview(*tok, dix, n) + "\n");
    }
  }
  say(fmt::format("{}\n### Final {}.bin/idx has {} tokens, {} items. Dtype <class 'numpy.uint16'>\n",
                  std::string(80, '-'), name, r.num_tokens(), r.num_docs()));
  res.magic_prime = magic_prime(r.num_tokens(), uint64_t(opt.ctx_len));
  say(magic_prime_report(r.num_tokens(), uint64_t(opt.ctx_len)));
  return res;
}

}  // namespace rwkv
