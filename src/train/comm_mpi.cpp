// comm_mpi.cpp — the OpenMPI communicator (comm.h) over MPI_COMM_WORLD for host buffers.
// Compiled with RWKV_HAS_MPI=1 (and MPI's include path) only on this file, so the rest of the
// library does not depend on mpi.h; without MPI it compiles to have_mpi() = false and a
// make_mpi_comm() that says how to get it. MPI calls return errors (MPI_ERRORS_RETURN) and
// become "[comm] rank R: MPI_X: <MPI's message>"; a watchdog thread ends a rank whose
// collective waits longer than the timeout (a peer lost without mpirun noticing).
// Non-blocking collectives (MPI_Ireduce_scatter, MPI_Iallreduce) advance only inside MPI calls:
// a progress thread tests them every RWKV_COMM_POLL_US microseconds (default 50) while any is
// pending, so they move on while the caller computes. Every MPI call of this communicator, the
// caller's and the progress thread's, holds one mutex (MPI_THREAD_SERIALIZED). With
// RWKV_COMM_PROGRESS=test (or when MPI gives no SERIALIZED) there is no thread and only the
// caller's progress() calls (and wait_all) advance them.
#include "train/comm.h"

#include "core/error.h"

#if RWKV_HAS_MPI
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
    int inited = 0, provided = 0;
    MPI_Initialized(&inited);
    if (!inited) {
      if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
        fail("comm", "MPI_Init_thread failed");
      own_init_ = true;
    } else {
      MPI_Query_thread(&provided);
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    if (timeout_s_ > 0) watchdog_ = std::thread([this] { watch(); });
    const char* mode = std::getenv("RWKV_COMM_PROGRESS");
    const char* poll = std::getenv("RWKV_COMM_POLL_US");
    if (poll && *poll) poll_us_ = std::max(0, std::atoi(poll));
    if (provided >= MPI_THREAD_SERIALIZED && !(mode && std::strcmp(mode, "test") == 0))
      progress_thread_ = std::thread([this] { progress_loop(); });
  }
  ~MpiComm() override {
    {
      std::lock_guard<std::mutex> g(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (watchdog_.joinable()) watchdog_.join();
    {
      std::lock_guard<std::mutex> g(mpi_mu_);
      stop_progress_ = true;
    }
    progress_cv_.notify_all();
    if (progress_thread_.joinable()) progress_thread_.join();
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
  void abort(int code) override {  // without the lock: the job ends whatever else is in MPI
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
  }

  void start_reduce_scatter_sum(const float* send, float* recv, const std::vector<size_t>& counts) override {
    Call c(this, "MPI_Ireduce_scatter", false);
    Pending& p = add_pending(int_counts(counts, "reduce_scatter"));
    check(MPI_Ireduce_scatter(send, recv, p.counts.data(), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &reqs_.back()));
    started();
  }
  void start_all_reduce_sum(float* buf, size_t n) override {
    Call c(this, "MPI_Iallreduce", false);
    if (n > size_t(INT_MAX)) fail("comm", "rank {}: all_reduce of {} floats: more than MPI's int counts", rank_, n);
    add_pending({});
    check(MPI_Iallreduce(MPI_IN_PLACE, buf, int(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &reqs_.back()));
    started();
  }
  void progress() override {
    if (progress_thread_.joinable() || active_.load() == 0) return;
    Call c(this, "MPI_Testsome", false);
    test_some();
  }
  void wait_all() override {
    if (reqs_.empty() && active_.load() == 0) return;  // only this thread adds requests
    Call c(this, "MPI_Waitall");
    rethrow_progress_error();
    check(MPI_Waitall(int(reqs_.size()), reqs_.data(), MPI_STATUSES_IGNORE));
    reqs_.clear();
    pending_.clear();
    active_.store(0);
  }

 private:
  static constexpr size_t kChunk = size_t(1) << 30;  // elements per call (MPI counts are int)

  // An MPI call of the caller's: holds the MPI lock (the progress thread waits meanwhile), is
  // timed (the wait for the lock included) and, when it may block on the other ranks
  // (`watched`), tells the watchdog it is in flight.
  struct Call {
    MpiComm* c;
    double t0;
    bool watched;
    std::unique_lock<std::mutex> lock;
    Call(MpiComm* comm, const char* what, bool watch = true)
        : c(comm), t0(now_s()), watched(watch), lock(comm->mpi_mu_) {
      c->what_.store(what);
      if (watched) c->since_.store(t0);
    }
    ~Call() {
      if (watched) c->since_.store(0);
      c->comm_seconds_ += now_s() - t0;
    }
  };

  // A started non-blocking collective: its request is reqs_[i] and its int counts (which MPI may
  // read until it completes) live here.
  struct Pending {
    std::vector<int> counts;
  };
  // Under mpi_mu_.
  Pending& add_pending(std::vector<int> counts) {
    reqs_.push_back(MPI_REQUEST_NULL);
    pending_.push_back(std::make_unique<Pending>(Pending{std::move(counts)}));
    return *pending_.back();
  }
  void started() {
    active_.fetch_add(1);
    progress_cv_.notify_one();
  }
  // Under mpi_mu_: completes what has finished (one pass of MPI's progress engine).
  void test_some() {
    if (reqs_.empty()) return;
    int out = 0;
    idx_.resize(reqs_.size());
    const int rc = MPI_Testsome(int(reqs_.size()), reqs_.data(), &out, idx_.data(), MPI_STATUSES_IGNORE);
    if (rc != MPI_SUCCESS) {
      if (progress_error_.empty()) progress_error_ = error_string(rc);
      active_.store(0);
      return;
    }
    if (out != MPI_UNDEFINED && out > 0) active_.fetch_sub(out);
  }
  void rethrow_progress_error() {
    if (!progress_error_.empty())
      fail("comm", "rank {} of {}: MPI_Testsome (progress thread) failed: {}", rank_, size_, progress_error_);
  }
  // The progress thread: while a non-blocking collective is pending, tests them every poll_us_
  // microseconds (each test is one pass of MPI's progress engine: the next fragments move).
  void progress_loop() {
    std::unique_lock<std::mutex> lk(mpi_mu_);
    while (!stop_progress_) {
      if (active_.load() == 0 || !progress_error_.empty()) {
        progress_cv_.wait(lk);
        continue;
      }
      test_some();
      lk.unlock();
      if (poll_us_ > 0)
        std::this_thread::sleep_for(std::chrono::microseconds(poll_us_));
      else
        std::this_thread::yield();
      lk.lock();
    }
  }

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
  static std::string error_string(int rc) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return std::string(msg, size_t(len));
  }
  void check(int rc) const {
    if (rc == MPI_SUCCESS) return;
    fail("comm", "rank {} of {}: {} failed: {}", rank_, size_, what_.load(), error_string(rc));
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
  // Non-blocking collectives and the progress thread; everything below is under mpi_mu_ (active_
  // is also read without it).
  std::mutex mpi_mu_;
  std::vector<MPI_Request> reqs_;               // started since the last wait_all (done: NULL)
  std::vector<std::unique_ptr<Pending>> pending_;
  std::vector<int> idx_;
  std::atomic<int> active_{0};                  // started and not yet complete
  std::string progress_error_;
  std::thread progress_thread_;
  std::condition_variable progress_cv_;
  bool stop_progress_ = false;
  int poll_us_ = 50;
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
