// test_data_parallel.cpp — the ZeRO-2 bucket bookkeeping of train/data_parallel.h without
// mpirun: a fake 2-rank communicator (the peer's gradient is a fixed function of the element)
// that runs the non-blocking reduce-scatters only at wait_all() and checks that their send
// buffers did not change since they were started. The overlapped path (buckets started from the
// backward's grads_ready calls) gives exactly the weights of the path that sends after the
// backward, each bucket starts as soon as the backward has finished it, and the buckets cover
// this rank's shard once. The real MPI runs are in test_train_mpi.cpp.
#include <cmath>
#include <cstring>
#include <vector>

#include "test_util.h"
#include "train/data_parallel.h"

using namespace rwkv::train;

namespace {

class FakeComm final : public Comm {
 public:
  explicit FakeComm(int rank) : rank_(rank) {}
  void set_base(const float* base) { base_ = base; }  // the gradient buffer (element numbers)
  int rank() const override { return rank_; }
  int size() const override { return 2; }
  std::string name() const override { return "fake"; }
  void all_reduce_sum(float* buf, size_t n) override {
    for (size_t i = 0; i < n; i++) buf[i] *= 2;
  }
  void all_reduce_sum(double* buf, size_t n) override {
    for (size_t i = 0; i < n; i++) buf[i] *= 2;
  }
  void reduce_scatter_sum(const float* send, float* recv, const std::vector<size_t>& counts) override {
    blocking++;
    reduce(send, recv, counts);
  }
  void all_gather(const float* send, float* recv, const std::vector<size_t>& counts) override {
    const size_t o = part_offset(counts, rank_);
    if (send != recv + o) std::memmove(recv + o, send, counts[size_t(rank_)] * sizeof(float));
  }
  void broadcast(void*, size_t, int) override {}
  void barrier() override {}
  void abort(int) override {}
  void start_reduce_scatter_sum(const float* send, float* recv, const std::vector<size_t>& counts) override {
    size_t n = 0;
    for (size_t c : counts) n += c;
    pending.push_back({send, recv, counts, std::vector<float>(send, send + n)});
    started++;
  }
  void progress() override { progressed++; }
  void wait_all() override {
    for (auto& p : pending) {
      EXPECT_EQ(0, std::memcmp(p.copy.data(), p.send, p.copy.size() * sizeof(float)))
          << "a bucket's send buffer changed while its reduce-scatter was in flight (element " << p.send - base_ << ")";
      reduce(p.send, p.recv, p.counts);
    }
    pending.clear();
  }

  int blocking = 0, started = 0, progressed = 0;
  size_t received = 0;  // elements this rank received over all reduce-scatters

 private:
  struct Pending {
    const float* send;
    float* recv;
    std::vector<size_t> counts;
    std::vector<float> copy;
  };
  // recv = this rank's part of send + the peer's gradient there.
  void reduce(const float* send, float* recv, const std::vector<size_t>& counts) {
    const size_t o = part_offset(counts, rank_), at = size_t(send - base_) + o;
    for (size_t i = 0; i < counts[size_t(rank_)]; i++) recv[i] = send[o + i] + peer(at + i);
    received += counts[size_t(rank_)];
  }
  static float peer(size_t i) { return 0.01f * float(int(i % 13) - 6); }
  int rank_;
  const float* base_ = nullptr;
  std::vector<Pending> pending;
};

// A "model" of 5 layers over a flat buffer: the backward writes layer 4 (the top) first.
constexpr size_t kTotal = 1000;
const size_t kLayerFrom[] = {0, 150, 420, 600, 770};  // layer l is [kLayerFrom[l], next)

std::vector<ParamSlot> slots() {
  std::vector<ParamSlot> s;
  for (size_t l = 0; l < 5; l++) {
    const size_t hi = l + 1 < 5 ? kLayerFrom[l + 1] : kTotal;
    s.push_back({"blocks." + std::to_string(l) + ".w.weight", {int64_t(hi - kLayerFrom[l])}, kLayerFrom[l],
                 hi - kLayerFrom[l]});
  }
  return s;
}

// Two steps; `overlap`: the backward writes each layer and reports it. Returns the weights.
// started_after_layer: the collectives started by then, after each layer of the first step.
std::vector<float> run(FakeComm& comm, bool overlap, size_t bucket_floats, std::vector<int>* started_after_layer = nullptr) {
  std::vector<float> params(kTotal), grads(kTotal);
  for (size_t i = 0; i < kTotal; i++) params[i] = 0.1f * std::sin(float(i));
  comm.set_base(grads.data());
  DataParallel dp(comm, DpStrategy::Zero2, slots(), kTotal, AdamWConfig{}, bucket_floats * sizeof(float), overlap);
  EXPECT_EQ(dp.overlaps(), overlap);
  for (int step = 0; step < 2; step++) {
    dp.begin_backward(grads.data());
    std::fill(grads.begin(), grads.end(), 0.f);
    for (int l = 4; l >= 0; l--) {
      const size_t hi = l < 4 ? kLayerFrom[l + 1] : kTotal;
      for (size_t i = kLayerFrom[l]; i < hi; i++) grads[i] = std::cos(float(i * (step + 1))) + 0.5f * float(l);
      if (overlap) {
        dp.grads_ready(kLayerFrom[l]);
        if (started_after_layer && step == 0) started_after_layer->push_back(comm.started);
      }
    }
    dp.step(params.data(), grads.data(), 1e-2, 1.0);
  }
  return params;
}

}  // namespace

TEST(DataParallel, OverlappedBucketsGiveTheSameWeights) {
  for (int rank : {0, 1}) {
    for (size_t bucket : {size_t(64), size_t(100), size_t(333), size_t(5000)}) {
      FakeComm plain_comm(rank), over_comm(rank);
      FakeComm *plain = &plain_comm, *over = &over_comm;
      std::vector<int> started;
      const std::vector<float> a = run(plain_comm, false, bucket);
      const std::vector<float> b = run(over_comm, true, bucket, &started);
      // The shard of this rank is [500 rank, 500 (rank + 1)); only it is updated here, and exactly.
      EXPECT_EQ(a, b) << "rank " << rank << " bucket " << bucket;
      const size_t buckets = (kTotal + bucket - 1) / bucket;
      EXPECT_EQ(plain->blocking, int(2 * buckets));
      EXPECT_EQ(plain->started, 0);
      EXPECT_EQ(over->blocking, 0);
      EXPECT_EQ(over->started, int(2 * buckets));
      EXPECT_EQ(over->progressed, 2 * 5);
      EXPECT_EQ(plain->received, 2 * 500u);
      EXPECT_EQ(over->received, 2 * 500u);
      // Buckets are cut from the top: after layer l was reported, every bucket inside
      // [kLayerFrom[l], kTotal) has started (and none below it).
      ASSERT_EQ(started.size(), 5u);
      for (int i = 0; i < 5; i++) {
        const size_t from = kLayerFrom[4 - i];
        const int want = int((kTotal - from) / bucket);  // whole buckets above `from`
        EXPECT_EQ(started[size_t(i)], from == 0 ? int(buckets) : want) << "after layer " << 4 - i << ", bucket " << bucket;
      }
    }
  }
}
