// test_train_mpi_fault.cpp — acceptance 5 of issue 17: SIGKILL one of 2 ranks in the middle of
// a run; the job ends non-zero within 60 s with a message naming the lost rank (never a hang);
// the newest checkpoint loads, and a restart with another number of processes (one, the two
// ranks simulated) resumes from it. A tiny x070 model (L1-D64, ctx 8, real batch 480: 84 steps
// per mini-epoch, a checkpoint each) so checkpoints come within seconds.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include "io/model_file.h"
#include "mpi_run.h"
#include "train/run_dir.h"

namespace fs = std::filesystem;
using namespace rwkv::test;

namespace {

std::string tiny_flags(const std::string& proj, int devices, int micro, int64_t steps) {
  const std::string F = fixture("traj-demo-L4-D256-bytes");
  return fmt::format(
      "train --data_file {0}/data --data_type binidx --vocab_size 256 --ctx_len 8 --n_layer 1 --n_embd 64 "
      "--head_size 64 --magic_prime 37061 --my_exit_tokens {1} --lr_init 1e-3 --lr_final 1e-4 --epoch_save 1 "
      "--plot 0 --threads 1 --devices {2} --micro_bsz {3} --proj_dir {4}",
      F, steps * 480 * 8, devices, micro, proj);
}

// The pid of the process whose environment holds both `mark` and OMPI_COMM_WORLD_RANK=rank.
int find_rank(const std::string& mark, int rank) {
  const std::string want = fmt::format("OMPI_COMM_WORLD_RANK={}", rank);
  for (auto& e : fs::directory_iterator("/proc")) {
    const std::string n = e.path().filename();
    if (n.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string env = read_file(e.path() / "environ");
    bool has_mark = false, has_rank = false;
    for (size_t i = 0; i < env.size();) {
      size_t j = env.find('\0', i);
      std::string kv = env.substr(i, j == std::string::npos ? std::string::npos : j - i);
      has_mark |= kv == mark, has_rank |= kv == want;
      if (j == std::string::npos) break;
      i = j + 1;
    }
    if (has_mark && has_rank && read_file(e.path() / "comm").rfind("rwkv", 0) == 0) return std::stoi(n);
  }
  return -1;
}

// A 2-rank job in the background: stage 1 writes the init, then mpirun trains from it with
// `extra` flags. Its output goes to d/mpi.log and its exit status to d/rc; `mark` tags the ranks'
// environment (find_rank).
struct BackgroundJob {
  std::string proj, log, rc_file, mark;
};
BackgroundJob start_two_rank_job(const TempDir& d, const std::string& extra) {
  BackgroundJob j{d / "run", d / "mpi.log", d / "rc", "RWKV_FAULT_TEST=" + fs::path(d.path).filename().string()};
  EXPECT_EQ(run_logged(std::string(RWKV_BIN) + " " + tiny_flags(j.proj, 1, 480, 100000) + " --train_stage 1",
                       d / "init.log"), 0) << read_file(d / "init.log");
  const std::string job = "export " + j.mark + "; " + mpirun_prefix(2, "-x RWKV_FAULT_TEST") + RWKV_BIN + " " +
                          tiny_flags(j.proj, 2, 240, 100000) + " --train_stage 3" + extra + " --load_model " + j.proj +
                          "/rwkv-init.pth";
  EXPECT_EQ(std::system(("(" + job + " >" + j.log + " 2>&1 </dev/null; echo $? >" + j.rc_file + ") &").c_str()), 0);
  return j;
}

}  // namespace

TEST(TrainMpiFault, KilledRankEndsTheJobAndTheRunResumes) {
  RWKV_NEED_MPIRUN();
  TempDir d;
  const BackgroundJob j = start_two_rank_job(d, "");
  const std::string &proj = j.proj, &log = j.log, &rc_file = j.rc_file, &mark = j.mark;
  ASSERT_FALSE(HasFailure()) << "the job did not start";
  // Two checkpoints (168 steps), then kill rank 1.
  auto t_start = std::chrono::steady_clock::now();
  while (!fs::exists(proj + "/rwkv-1.pth")) {
    ASSERT_FALSE(fs::exists(rc_file)) << "the job ended before its second checkpoint:\n" << read_file(log);
    ASSERT_LT(std::chrono::steady_clock::now() - t_start, std::chrono::seconds(180)) << read_file(log);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const int victim = find_rank(mark, 1);
  ASSERT_GT(victim, 0) << "rank 1's process not found";
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  auto t_kill = std::chrono::steady_clock::now();
  while (!fs::exists(rc_file) || read_file(rc_file).empty()) {
    ASSERT_LT(std::chrono::steady_clock::now() - t_kill, std::chrono::seconds(90)) << "no exit 90 s after the kill";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_kill).count();
  const int rc = std::stoi(read_file(rc_file));
  const std::string out = read_file(log);
  const size_t at = out.find("rank 1");
  std::printf("rank 1 killed: mpirun exited %d after %.1f s: ...%s\n", rc, secs,
              at == std::string::npos ? "" : out.substr(at, out.find('\n', at) - at).c_str());
  EXPECT_NE(rc, 0);
  EXPECT_LT(secs, 60.0);
  EXPECT_TRUE(out.find("rank 1") != std::string::npos) << out;
  EXPECT_EQ(find_rank(mark, 0), -1) << "rank 0 still running";
  // The newest checkpoint loads; a one-process restart resumes from it and runs 3 steps to the end.
  rwkv::train::ResumeChoice rc2 = rwkv::train::choose_resume(proj);
  ASSERT_TRUE(rc2.found);
  ASSERT_GE(rc2.newest, 1);
  const std::string newest = rwkv::train::checkpoint_path(proj, rc2.newest);
  EXPECT_NO_THROW(rwkv::load_model_file(newest));
  const int64_t resume_steps = (rc2.newest + 1) * 84 + 3;
  const std::string log2 = d / "resume.log";
  ASSERT_EQ(run_logged(std::string(RWKV_BIN) + " " + tiny_flags(proj, 1, 480, resume_steps) + " --train_stage 3", log2), 0)
      << read_file(log2);
  EXPECT_NE(read_file(log2).find("Loading " + newest), std::string::npos) << read_file(log2);
  EXPECT_TRUE(fs::exists(proj + "/rwkv-final.pth"));
}

// The backstop when mpirun sees nothing wrong: rank 1 stopped (SIGSTOP: alive, silent), rank 0
// waits in a collective; after --comm_timeout 5 s it exits with a message, and the job ends.
TEST(TrainMpiFault, StalledRankTimesOut) {
  RWKV_NEED_MPIRUN();
  TempDir d;
  const BackgroundJob j = start_two_rank_job(d, " --comm_timeout 5");
  const std::string &proj = j.proj, &log = j.log, &rc_file = j.rc_file, &mark = j.mark;
  ASSERT_FALSE(HasFailure()) << "the job did not start";
  auto t_start = std::chrono::steady_clock::now();
  while (read_metrics(proj).size() < 5) {
    ASSERT_FALSE(fs::exists(rc_file)) << read_file(log);
    ASSERT_LT(std::chrono::steady_clock::now() - t_start, std::chrono::seconds(120)) << read_file(log);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const int victim = find_rank(mark, 1);
  ASSERT_GT(victim, 0);
  ASSERT_EQ(kill(victim, SIGSTOP), 0);
  auto t_stop = std::chrono::steady_clock::now();
  bool ended = false;
  while (std::chrono::steady_clock::now() - t_stop < std::chrono::seconds(60)) {
    if (fs::exists(rc_file) && !read_file(rc_file).empty()) {
      ended = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_stop).count();
  if (int left = find_rank(mark, 1); left > 0) kill(left, SIGKILL);  // never leave it behind
  ASSERT_TRUE(ended) << "the job did not end 60 s after rank 1 stopped:\n" << read_file(log);
  const std::string out = read_file(log);
  std::printf("rank 1 stopped: the job exited %d after %.1f s\n", std::stoi(read_file(rc_file)), secs);
  EXPECT_NE(std::stoi(read_file(rc_file)), 0);
  EXPECT_NE(out.find("[comm] rank 0 of 2: MPI_"), std::string::npos) << out;
  EXPECT_NE(out.find("waited"), std::string::npos) << out;
}
