// comm_nccl_none.cpp — builds without CUDA or without NCCL: no NCCL communicator (comm.h).
#include "core/error.h"
#include "train/comm.h"

namespace rwkv::train {

bool have_nccl() { return false; }

std::unique_ptr<Comm> make_nccl_comm(Comm&, int) {
  fail("comm", "this build has no NCCL communicator (it needs the CUDA toolkit with NCCL at configure time)");
}

}  // namespace rwkv::train
