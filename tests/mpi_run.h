// mpi_run.h — tests that start `mpirun -np N rwkv train ...`: the mpirun prefix (as root, on
// a 2-core machine: --allow-run-as-root --oversubscribe, no core binding, no CMA single copy,
// which containers forbid), the demo-shape training flags, and reading a run's metrics.jsonl.
#pragma once
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "train/comm.h"

namespace rwkv::test {

inline bool have_mpirun() { return std::system("command -v mpirun >/dev/null 2>&1") == 0; }

// Skips the test when this build has no MPI; fails it when the build has MPI but no mpirun.
#define RWKV_NEED_MPIRUN()                                                                     \
  do {                                                                                         \
    if (!rwkv::train::have_mpi()) GTEST_SKIP() << "built without MPI (scripts/setup.sh installs OpenMPI)"; \
    ASSERT_TRUE(rwkv::test::have_mpirun()) << "mpirun not found (scripts/setup.sh installs openmpi-bin)"; \
  } while (0)

inline std::string mpirun_prefix(int np, const std::string& extra = "") {
  return fmt::format(
      "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none "
      "mpirun --allow-run-as-root --oversubscribe --bind-to none {} -np {} ",
      extra, np);
}

// `rwkv train` on the demo shape (L4-D256, vocab 256, ctx 128; the trajectory fixture's data
// and init) for `steps` steps of real batch 8 = devices * micro_bsz, into proj.
inline std::string demo_train_flags(const std::string& proj, int devices, int micro_bsz, int steps, int threads,
                                    const std::string& extra = "") {
  const std::string F = fixture("traj-demo-L4-D256-bytes");
  return fmt::format(
      "train --load_model {0}/rwkv-init.pth --data_file {0}/data --data_type binidx --vocab_size 256 --ctx_len 128 "
      "--n_layer 4 --n_embd 256 --head_size 64 --magic_prime 2309 --train_stage 3 --my_exit_tokens {1} "
      "--lr_init 6e-4 --lr_final 6e-5 --warmup_steps 10 --beta1 0.9 --beta2 0.99 --adam_eps 1e-18 "
      "--weight_decay 0.001 --grad_clip 1.0 --epoch_save 1 --precision fp32 --plot 0 "
      "--devices {2} --micro_bsz {3} --threads {4} --proj_dir {5} {6}",
      F, steps * 8 * 128, devices, micro_bsz, threads, proj, extra);
}

inline std::vector<nlohmann::json> read_metrics(const std::string& proj) {
  std::ifstream f(proj + "/metrics.jsonl");
  std::vector<nlohmann::json> v;
  for (std::string line; std::getline(f, line);) v.push_back(nlohmann::json::parse(line));
  return v;
}

// Runs a shell command with stdout+stderr into log; returns the exit status (-1: a signal).
inline int run_logged(const std::string& cmd, const std::string& log) {
  int st = std::system((cmd + " >" + log + " 2>&1 </dev/null").c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace rwkv::test
