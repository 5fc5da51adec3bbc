// comm_mpi.cpp — the OpenMPI communicator (comm.h) over MPI_COMM_WORLD for host buffers.
// Compiled with RWKV_HAS_MPI=1 (and MPI's include path) only on this file, so the rest of the
// library does not depend on mpi.h; without MPI it compiles to have_mpi() = false and a
// make_mpi_comm() that says how to get it. MPI calls return errors (MPI_ERRORS_RETURN) and
// become "[comm] rank R: MPI_X: <MPI's message>"; a watchdog thread ends a rank whose
// collective waits longer than the timeout (a peer lost without mpirun noticing).
#include "train/comm.h"

#include "core/error.h"

#if RWKV_HAS_MPI
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include <mpi.h>
#include <unistd.h>
#endif

namespace rwkv::train {

#if RWKV_HAS_MPI
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

class MpiComm final : public Comm {
 public:
  explicit MpiComm(double timeout_s) : timeout_s_(timeout_s) {
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
      int provided = 0;
      if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        fail("comm", "MPI_Init_thread failed");
      own_init_ = true;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    if (timeout_s_ > 0) watchdog_ = std::thread([this] { watch(); });
  }
  ~MpiComm() override {
    {
      std::lock_guard<std::mutex> g(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (watchdog_.joinable()) watchdog_.join();
    int fin = 0;
    MPI_Finalized(&fin);
    if (own_init_ && !fin) MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "mpi"; }

  void all_reduce_sum(float* buf, size_t n) override {
    Call c(this, "MPI_Allreduce");
    for (size_t o = 0; o < n; o += kChunk)
      check(MPI_Allreduce(MPI_IN_PLACE, buf + o, int(std::min(kChunk, n - o)), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD));
  }
  void all_reduce_sum(double* buf, size_t n) override {
    Call c(this, "MPI_Allreduce");
    for (size_t o = 0; o < n; o += kChunk)
      check(MPI_Allreduce(MPI_IN_PLACE, buf + o, int(std::min(kChunk, n - o)), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  }
  void reduce_scatter_sum(const float* send, float* recv, const std::vector<size_t>& counts) override {
    Call c(this, "MPI_Reduce_scatter");
    std::vector<int> rc = int_counts(counts, "reduce_scatter");
    check(MPI_Reduce_scatter(send, recv, rc.data(), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD));
  }
  void all_gather(const float* send, float* recv, const std::vector<size_t>& counts) override {
    Call c(this, "MPI_Allgatherv");
    std::vector<int> rc = int_counts(counts, "all_gather"), displ(rc.size());
    long long o = 0;
    for (size_t r = 0; r < rc.size(); r++) displ[r] = int(o), o += rc[r];
    if (o > INT_MAX) fail("comm", "all_gather of {} floats: more than MPI's int counts", o);
    const bool in_place = send == recv + displ[size_t(rank_)];
    check(MPI_Allgatherv(in_place ? MPI_IN_PLACE : send, rc[size_t(rank_)], MPI_FLOAT, recv, rc.data(), displ.data(),
                         MPI_FLOAT, MPI_COMM_WORLD));
  }
  void broadcast(void* buf, size_t bytes, int root) override {
    Call c(this, "MPI_Bcast");
    char* p = static_cast<char*>(buf);
    for (size_t o = 0; o < bytes; o += kChunk)
      check(MPI_Bcast(p + o, int(std::min(kChunk, bytes - o)), MPI_BYTE, root, MPI_COMM_WORLD));
  }
  void barrier() override {
    Call c(this, "MPI_Barrier");
    check(MPI_Barrier(MPI_COMM_WORLD));
  }
  void abort(int code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
  }

 private:
  static constexpr size_t kChunk = size_t(1) << 30;  // elements per call (MPI counts are int)

  // Times a collective and tells the watchdog it is in flight.
  struct Call {
    MpiComm* c;
    double t0;
    Call(MpiComm* comm, const char* what) : c(comm), t0(now_s()) {
      c->what_.store(what);
      c->since_.store(t0);
    }
    ~Call() {
      c->since_.store(0);
      c->comm_seconds_ += now_s() - t0;
    }
  };

  std::vector<int> int_counts(const std::vector<size_t>& counts, const char* what) const {
    if (counts.size() != size_t(size_))
      fail("comm", "rank {}: {} with {} counts in a world of {}", rank_, what, counts.size(), size_);
    std::vector<int> v;
    for (size_t c : counts) {
      if (c > size_t(INT_MAX)) fail("comm", "rank {}: {} of {} floats per rank: more than MPI's int counts", rank_, what, c);
      v.push_back(int(c));
    }
    return v;
  }
  void check(int rc) const {
    if (rc == MPI_SUCCESS) return;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    fail("comm", "rank {} of {}: {} failed: {}", rank_, size_, what_.load(), std::string(msg, size_t(len)));
  }
  void watch() {
    std::unique_lock<std::mutex> lk(mu_);
    while (!cv_.wait_for(lk, std::chrono::milliseconds(500), [this] { return stop_; })) {
      double s = since_.load();
      if (s > 0 && now_s() - s > timeout_s_) {
        std::fprintf(stderr,
                     "[comm] rank %d of %d: %s waited %.0f s for the other ranks; one of them is lost "
                     "(killed, out of memory or unreachable) or stalled. Exiting.\n",
                     rank_, size_, what_.load(), now_s() - s);
        std::fflush(stderr);
        _exit(3);
      }
    }
  }

  int rank_ = 0, size_ = 1;
  bool own_init_ = false;
  double timeout_s_;
  std::atomic<double> since_{0};
  std::atomic<const char*> what_{""};
  std::thread watchdog_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace

bool have_mpi() { return true; }
std::unique_ptr<Comm> make_mpi_comm(double timeout_s) { return std::make_unique<MpiComm>(timeout_s); }

#else

bool have_mpi() { return false; }
std::unique_ptr<Comm> make_mpi_comm(double) {
  fail("comm", "this build has no MPI: install OpenMPI (scripts/setup.sh, or apt-get install openmpi-bin "
               "libopenmpi-dev) and configure again");
}

#endif

}  // namespace rwkv::train
