// data_parallel.h — one optimizer step of data-parallel training over a Comm (comm.h), as
// Lightning/DeepSpeed do it for `--strategy`:
//   ddp                 all-reduce the gradient; every rank runs AdamW on every parameter.
//   deepspeed_stage_1   all-reduce the gradient; each rank keeps the AdamW moments of its shard
//                       only, updates it, and the updated weights are all-gathered.
//   deepspeed_stage_2   (default, also "auto") as stage 1, but the gradient is reduce-scattered in
//                       buckets of --ds_bucket_mb MiB: each rank receives only its shard's summed
//                       gradient (a 1/N-size buffer). Buckets are cut from the top of the flat
//                       buffer down (head, last block, ..., embedding: the order the backward
//                       finishes them); with overlap (--ds_overlap_comm 1, DeepSpeed's
//                       overlap_comm) each bucket's reduce-scatter starts, non-blocking, as soon
//                       as the backward has finished it, and runs while the layers below are
//                       differentiated; the step waits for them after the backward.
// Shards are contiguous ranges of the model's flat fp32 buffer (even_partition). The grad-norm
// clip uses the global norm (squares summed over the shards). On one rank every strategy is the
// plain single-process step (same numbers bit for bit). The fp32 weights stay whole on every
// rank: on the CPU they are the compute weights.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "train/adamw.h"
#include "train/comm.h"

namespace rwkv::train {

enum class DpStrategy { Ddp, Zero1, Zero2 };
// "auto", "deepspeed_stage_2[_offload]" -> Zero2, "deepspeed_stage_1" -> Zero1, "ddp[...]" ->
// Ddp; anything else: "[train] --strategy X: ..." listing the accepted ones.
DpStrategy parse_strategy(const std::string& s);
const char* strategy_name(DpStrategy s);

class DataParallel {
 public:
  DataParallel(Comm& comm, DpStrategy strategy, const std::vector<ParamSlot>& slots, size_t total, AdamWConfig cfg,
               size_t bucket_bytes, bool overlap_comm = true);
  // True when the gradient reduce-scatter overlaps the backward (deepspeed_stage_2 on > 1 rank
  // with overlap_comm): then call begin_backward(grads) before the forward+backward and
  // grads_ready(from) from the model's hook (TrainModel::set_grads_ready) each time
  // grads[from, total) are final; every bucket then complete is started at once. step() starts
  // what is left and waits for all. Without these calls step() sends every bucket itself; the
  // buckets, and so the numbers, are the same either way.
  bool overlaps() const { return overlap_; }
  void begin_backward(float* grads);
  void grads_ready(size_t from);
  // After this rank's forward+backward (grads: the mean gradient of its rows): the gradient
  // averaged over ranks, the global grad norm (returned, before clipping), the clip to
  // `grad_clip` (0: off), AdamW with `lr` on this rank's part, and the updated weights on every
  // rank. `grads` is used as scratch.
  double step(float* params, float* grads, double lr, double grad_clip);
  void set_weight_decay(double wd) { opt_->set_weight_decay(wd); }
  // The mean over ranks of a per-rank value (the step's loss).
  double mean(double v);
  // Rank 0's weights to every rank (after init or load).
  void broadcast_params(float* params);

  DpStrategy strategy() const { return strategy_; }
  size_t shard_begin() const { return counts_owned_begin_; }
  size_t shard_size() const { return counts_[size_t(comm_.rank())]; }
  // Bytes this rank holds for the optimizer (AdamW m and v) and for the gradient shard.
  size_t optimizer_state_bytes() const { return opt_->state_bytes(); }
  size_t grad_shard_bytes() const { return grad_shard_.size() * sizeof(float); }
  // Every rank's optimizer_state_bytes() (collective).
  std::vector<double> optimizer_state_bytes_all();

 private:
  Comm& comm_;
  DpStrategy strategy_;
  size_t total_, bucket_elems_;
  std::vector<size_t> counts_;      // elements of the flat buffer each rank owns
  size_t counts_owned_begin_ = 0;   // first element this rank owns
  std::unique_ptr<AdamW> opt_;
  std::vector<float> grad_shard_;   // Zero2 on > 1 rank: this rank's reduced gradient

  // Zero2 on > 1 rank: bucket k is [lo, hi) of the flat buffer, cut from the top (bucket 0 ends
  // at total_), parts[r] of it belong to rank r, and this rank's part goes to grad_shard_ + recv.
  struct Bucket {
    size_t lo, hi, recv;
    std::vector<size_t> parts;
  };
  std::vector<Bucket> buckets_;
  bool overlap_ = false;
  float* bw_grads_ = nullptr;  // the buffer of the backward in progress (begin_backward)
  size_t next_bucket_ = 0;     // buckets [0, next_bucket_) of it have been started
  void start_bucket(const Bucket& b, const float* grads);
};

}  // namespace rwkv::train
