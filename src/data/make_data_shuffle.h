// make_data_shuffle.h — Python's `random` module (MT19937 with random.seed(int)'s init_by_array,
// getrandbits, _randbelow, shuffle), so `rwkv make-data --seed S` orders documents exactly as
// make_data.py does after `random.seed(S)`.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace rwkv {

class PyRandom {
 public:
  explicit PyRandom(uint64_t seed);  // random.seed(seed)
  uint32_t genrand_uint32();
  uint64_t getrandbits(int k);  // 1 <= k <= 64
  uint64_t randbelow(uint64_t n);  // uniform in [0, n), n >= 1, as Random._randbelow
  template <typename T>
  void shuffle(std::vector<T>& x) {  // random.shuffle(x)
    for (size_t i = x.size(); i-- > 1;) std::swap(x[i], x[size_t(randbelow(uint64_t(i) + 1))]);
  }

 private:
  uint32_t mt_[624];
  int mti_ = 625;
};

}  // namespace rwkv
