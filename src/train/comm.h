// comm.h — the data-parallel communicator the trainer talks to: rank, world size and the
// collectives of DeepSpeed/DDP training (all-reduce, reduce-scatter, all-gather, broadcast,
// barrier). Implementations: "single" (world 1, every call a copy or a no-op), "mpi" (OpenMPI,
// host buffers; comm_mpi.cpp) and "nccl" (device buffers, bootstrapped over MPI; comm_nccl.cpp,
// built with CUDA). Part of train/: model/ and ops/ never include it.
//
// Partitions are explicit: `counts[r]` elements belong to rank r, in rank order, so a buffer of
// any length can be split (the NCCL implementation pads internally where NCCL needs equal parts).
// Every error is an rwkv::Error "[comm] ..." naming the call and the rank.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rwkv::train {

class Comm {
 public:
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string name() const = 0;  // "single", "mpi", "nccl"
  // In place: buf[i] = sum over ranks of buf[i].
  virtual void all_reduce_sum(float* buf, size_t n) = 0;
  virtual void all_reduce_sum(double* buf, size_t n) = 0;
  // send holds sum(counts) elements on every rank; recv (counts[rank] elements) gets the sum over
  // ranks of this rank's part, send[offset(rank) .. offset(rank) + counts[rank]).
  virtual void reduce_scatter_sum(const float* send, float* recv, const std::vector<size_t>& counts) = 0;
  // Each rank contributes counts[rank] elements (send); recv (sum(counts)) gets every rank's part
  // in rank order. send may alias recv + offset(rank) (in place).
  virtual void all_gather(const float* send, float* recv, const std::vector<size_t>& counts) = 0;
  // buf (bytes) of rank `root` copied to every rank.
  virtual void broadcast(void* buf, size_t bytes, int root) = 0;
  virtual void barrier() = 0;
  // Ends the whole job after this rank failed (MPI_Abort: mpirun ends every other rank now,
  // rather than letting them wait in the next collective). World 1: does nothing.
  virtual void abort(int code) = 0;

  // Non-blocking collectives (ZeRO-2 --ds_overlap_comm: the gradient reduce-scatter overlapped
  // with the backward). start_* begins the collective and returns at once; its buffers belong to
  // it until wait_all() returns (the caller neither writes send nor reads recv meanwhile). Every
  // rank starts the same collectives in the same order (MPI's rule, as for the blocking ones),
  // and may mix in blocking ones. progress() lets started collectives advance (OpenMPI advances
  // them only inside MPI calls; a no-op when the communicator has a progress thread) and
  // wait_all() blocks until all have finished. The defaults run the blocking call at once.
  virtual void start_reduce_scatter_sum(const float* send, float* recv, const std::vector<size_t>& counts) {
    reduce_scatter_sum(send, recv, counts);
  }
  virtual void start_all_reduce_sum(float* buf, size_t n) { all_reduce_sum(buf, n); }
  virtual void progress() {}
  virtual void wait_all() {}

  // Seconds this (the calling) thread spent blocked in communication since the last call: inside
  // blocking collectives, wait_all(), and starting or testing non-blocking ones — the share of
  // step time spent waiting on communication, for the progress line and the benchmark. Work a
  // progress thread does meanwhile is not counted. Resets the counter.
  double take_comm_seconds() {
    double s = comm_seconds_;
    comm_seconds_ = 0;
    return s;
  }

 protected:
  double comm_seconds_ = 0;
};

// World 1: no other rank; collectives copy or do nothing.
std::unique_ptr<Comm> make_single_comm();

// True when this process was started by mpirun/mpiexec (OMPI_COMM_WORLD_SIZE or PMI_SIZE set).
bool launched_by_mpi();
// True when this build has the MPI communicator (OpenMPI found at configure time).
bool have_mpi();
// MPI_Init once for the process (thread level SERIALIZED: the communicator's own progress
// thread and the caller take turns under one lock), MPI_COMM_WORLD with errors returned as
// rwkv::Error; MPI_Finalize when the last MPI communicator is destroyed. A collective that
// has not finished after `timeout_s` seconds (a peer lost without mpirun noticing) prints
// "[comm] rank R: <call> waited T s ..." and ends the process with exit code 3; 0: no watchdog.
// Throws "[comm] this build has no MPI ..." when have_mpi() is false.
std::unique_ptr<Comm> make_mpi_comm(double timeout_s = 600);

// NCCL for device buffers (comm_nccl.cu, built when CUDA and NCCL are found): one GPU per rank
// (`device`), bootstrapped over `bootstrap` (the MPI communicator, which must outlive it and
// which serves host buffers and barriers). Built but not yet run on a GPU.
bool have_nccl();
std::unique_ptr<Comm> make_nccl_comm(Comm& bootstrap, int device);

// The partition of n elements over `world` ranks that ZeRO uses: contiguous, ceil(n/world) each
// (the last ranks may get less, or 0).
std::vector<size_t> even_partition(size_t n, int world);
inline size_t part_offset(const std::vector<size_t>& counts, int rank) {
  size_t o = 0;
  for (int r = 0; r < rank; r++) o += counts[size_t(r)];
  return o;
}

}  // namespace rwkv::train
