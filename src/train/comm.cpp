// comm.cpp — see comm.h: the world-1 communicator, the ZeRO partition and mpirun detection.
#include "train/comm.h"

#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace rwkv::train {

namespace {

class SingleComm final : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string name() const override { return "single"; }
  void all_reduce_sum(float*, size_t) override {}
  void all_reduce_sum(double*, size_t) override {}
  void reduce_scatter_sum(const float* send, float* recv, const std::vector<size_t>& counts) override {
    RWKV_CHECK(counts.size() == 1, "reduce_scatter: {} counts for world 1", counts.size());
    if (send != recv && counts[0]) std::memmove(recv, send, counts[0] * sizeof(float));
  }
  void all_gather(const float* send, float* recv, const std::vector<size_t>& counts) override {
    RWKV_CHECK(counts.size() == 1, "all_gather: {} counts for world 1", counts.size());
    if (send != recv && counts[0]) std::memmove(recv, send, counts[0] * sizeof(float));
  }
  void broadcast(void*, size_t, int root) override { RWKV_CHECK(root == 0, "broadcast from rank {} of 1", root); }
  void barrier() override {}
  void abort(int) override {}
};

}  // namespace

std::unique_ptr<Comm> make_single_comm() { return std::make_unique<SingleComm>(); }

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (const char* s = std::getenv(v); s && *s) return true;
  return false;
}

std::vector<size_t> even_partition(size_t n, int world) {
  RWKV_CHECK(world >= 1, "world size {}", world);
  const size_t per = (n + size_t(world) - 1) / size_t(world);
  std::vector<size_t> c(size_t(world), 0);
  size_t left = n;
  for (auto& x : c) {
    x = std::min(per, left);
    left -= x;
  }
  return c;
}

}  // namespace rwkv::train
