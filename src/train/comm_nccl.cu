// comm_nccl.cu — the NCCL communicator (comm.h) for device buffers: one GPU per rank, the NCCL
// unique id made by rank 0 and broadcast over the bootstrap communicator (MPI), collectives
// on one stream of this rank, each blocking call synchronous (the stream is synchronised before
// it returns, as the host implementations are); the start_* calls only enqueue on that stream
// and wait_all() synchronises it (stream order keeps the shared scratch buffer safe). A host pointer is handed to the bootstrap
// communicator, so the trainer may mix host and device buffers. Uneven partitions (counts) are
// padded to NCCL's equal parts in scratch device buffers.
// Compiled when CUDA and NCCL are found (CMakeLists.txt); comm_nccl_none.cpp otherwise.
// Not run on a GPU yet: built, never tested — not to be called working before a GPU test.
#include <nccl.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "core/error.h"
#include "ops/cuda/cuda_check.h"
#include "train/comm.h"

namespace rwkv::train {

namespace {

#define NCCL_CHECK(call)                                                                           \
  do {                                                                                             \
    ncclResult_t r_ = (call);                                                                      \
    if (r_ != ncclSuccess)                                                                         \
      throw ::rwkv::Error(::fmt::format("[comm] nccl rank {}: {}: {}", rank_, #call, ncclGetErrorString(r_))); \
  } while (0)

bool on_device(const void* p) {
  cudaPointerAttributes a{};
  if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
    cudaGetLastError();  // a plain host pointer on old drivers: clear the error
    return false;
  }
  return a.type == cudaMemoryTypeDevice || a.type == cudaMemoryTypeManaged;
}

class NcclComm final : public Comm {
 public:
  NcclComm(Comm& boot, int device) : boot_(boot), rank_(boot.rank()), size_(boot.size()) {
    CUDA_CHECK(cudaSetDevice(device));
    ncclUniqueId id{};
    if (rank_ == 0) NCCL_CHECK(ncclGetUniqueId(&id));
    boot_.broadcast(&id, sizeof id, 0);
    NCCL_CHECK(ncclCommInitRank(&comm_, size_, id, rank_));
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }
  ~NcclComm() override {
    if (scratch_) cudaFree(scratch_);
    if (stream_) cudaStreamDestroy(stream_);
    if (comm_) ncclCommDestroy(comm_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "nccl"; }

  void all_reduce_sum(float* buf, size_t n) override {
    if (!on_device(buf)) return boot_.all_reduce_sum(buf, n);
    timed([&] { NCCL_CHECK(ncclAllReduce(buf, buf, n, ncclFloat, ncclSum, comm_, stream_)); });
  }
  void all_reduce_sum(double* buf, size_t n) override {
    if (!on_device(buf)) return boot_.all_reduce_sum(buf, n);
    timed([&] { NCCL_CHECK(ncclAllReduce(buf, buf, n, ncclDouble, ncclSum, comm_, stream_)); });
  }

  // NCCL wants equal parts: send is laid out as size_ parts of m = max(counts) (zero padded).
  void reduce_scatter_sum(const float* send, float* recv, const std::vector<size_t>& counts) override {
    if (!on_device(send)) return boot_.reduce_scatter_sum(send, recv, counts);
    timed([&] { enqueue_reduce_scatter(send, recv, counts); });
  }
  // Non-blocking: enqueued on the stream; wait_all() synchronises it.
  void start_reduce_scatter_sum(const float* send, float* recv, const std::vector<size_t>& counts) override {
    if (!on_device(send)) return boot_.start_reduce_scatter_sum(send, recv, counts);
    enqueue_reduce_scatter(send, recv, counts);
  }
  void start_all_reduce_sum(float* buf, size_t n) override {
    if (!on_device(buf)) return boot_.start_all_reduce_sum(buf, n);
    NCCL_CHECK(ncclAllReduce(buf, buf, n, ncclFloat, ncclSum, comm_, stream_));
  }
  void progress() override { boot_.progress(); }
  void wait_all() override {
    boot_.wait_all();
    timed([] {});
  }

  void all_gather(const float* send, float* recv, const std::vector<size_t>& counts) override {
    if (!on_device(recv)) return boot_.all_gather(send, recv, counts);
    const size_t m = *std::max_element(counts.begin(), counts.end());
    float* tmp = scratch(m * size_t(size_ + 1));  // m sent, then (size_, m) gathered
    float* all = tmp + m;
    timed([&] {
      CUDA_CHECK(cudaMemcpyAsync(tmp, send, counts[size_t(rank_)] * sizeof(float), cudaMemcpyDeviceToDevice, stream_));
      NCCL_CHECK(ncclAllGather(tmp, all, m, ncclFloat, comm_, stream_));
      for (int r = 0; r < size_; r++)
        CUDA_CHECK(cudaMemcpyAsync(recv + part_offset(counts, r), all + size_t(r) * m, counts[size_t(r)] * sizeof(float),
                                   cudaMemcpyDeviceToDevice, stream_));
    });
  }

  void broadcast(void* buf, size_t bytes, int root) override {
    if (!on_device(buf)) return boot_.broadcast(buf, bytes, root);
    timed([&] { NCCL_CHECK(ncclBroadcast(buf, buf, bytes, ncclUint8, root, comm_, stream_)); });
  }
  void barrier() override { boot_.barrier(); }
  void abort(int code) override {
    if (comm_) ncclCommAbort(comm_), comm_ = nullptr;
    boot_.abort(code);
  }

 private:
  void enqueue_reduce_scatter(const float* send, float* recv, const std::vector<size_t>& counts) {
    const size_t m = *std::max_element(counts.begin(), counts.end());
    float* tmp = scratch(m * size_t(size_ + 1));  // (size_, m) padded send, then m received
    float* got = tmp + m * size_t(size_);
    CUDA_CHECK(cudaMemsetAsync(tmp, 0, m * size_t(size_) * sizeof(float), stream_));
    for (int r = 0; r < size_; r++)
      CUDA_CHECK(cudaMemcpyAsync(tmp + size_t(r) * m, send + part_offset(counts, r), counts[size_t(r)] * sizeof(float),
                                 cudaMemcpyDeviceToDevice, stream_));
    NCCL_CHECK(ncclReduceScatter(tmp, got, m, ncclFloat, ncclSum, comm_, stream_));
    CUDA_CHECK(cudaMemcpyAsync(recv, got, counts[size_t(rank_)] * sizeof(float), cudaMemcpyDeviceToDevice, stream_));
  }
  template <typename F>
  void timed(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    CUDA_CHECK(cudaStreamSynchronize(stream_));
    comm_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  float* scratch(size_t n) {
    if (n > scratch_n_) {
      CUDA_CHECK(cudaStreamSynchronize(stream_));  // started collectives may still use the old one
      if (scratch_) CUDA_CHECK(cudaFree(scratch_));
      scratch_ = nullptr;
      CUDA_CHECK(cudaMalloc(&scratch_, n * sizeof(float)));
      scratch_n_ = n;
    }
    return scratch_;
  }

  Comm& boot_;
  int rank_ = 0, size_ = 1;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  float* scratch_ = nullptr;
  size_t scratch_n_ = 0;
};

}  // namespace

bool have_nccl() { return true; }

std::unique_ptr<Comm> make_nccl_comm(Comm& bootstrap, int device) {
  return std::make_unique<NcclComm>(bootstrap, device);
}

}  // namespace rwkv::train
