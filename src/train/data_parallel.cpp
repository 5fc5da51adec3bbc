// data_parallel.cpp — see data_parallel.h.
#include "train/data_parallel.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace rwkv::train {

DpStrategy parse_strategy(const std::string& s) {
  if (s == "auto" || s.rfind("deepspeed_stage_2", 0) == 0) return DpStrategy::Zero2;
  if (s == "deepspeed_stage_1") return DpStrategy::Zero1;
  if (s.rfind("ddp", 0) == 0) return DpStrategy::Ddp;
  fail("train", "--strategy {}: not supported (auto, deepspeed_stage_2, deepspeed_stage_1, ddp)", s);
}

const char* strategy_name(DpStrategy s) {
  switch (s) {
    case DpStrategy::Ddp: return "ddp";
    case DpStrategy::Zero1: return "deepspeed_stage_1";
    case DpStrategy::Zero2: return "deepspeed_stage_2";
  }
  return "?";
}

DataParallel::DataParallel(Comm& comm, DpStrategy strategy, const std::vector<ParamSlot>& slots, size_t total,
                           AdamWConfig cfg, size_t bucket_bytes, bool overlap_comm)
    : comm_(comm), strategy_(strategy), total_(total), bucket_elems_(std::max<size_t>(1, bucket_bytes / sizeof(float))) {
  const int world = comm_.size();
  if (strategy_ == DpStrategy::Ddp || world == 1) {
    counts_.assign(size_t(world), 0);
    counts_[size_t(comm_.rank())] = total;  // not a partition: every rank updates everything
    opt_ = std::make_unique<AdamW>(slots, total, cfg);
  } else {
    counts_ = even_partition(total, world);
    counts_owned_begin_ = part_offset(counts_, comm_.rank());
    opt_ = std::make_unique<AdamW>(slots, total, cfg, counts_owned_begin_, counts_owned_begin_ + shard_size());
    if (strategy_ == DpStrategy::Zero2) {
      grad_shard_.resize(shard_size());
      overlap_ = overlap_comm;
      const size_t begin = counts_owned_begin_;
      for (size_t hi = total_; hi > 0;) {
        Bucket b;
        b.hi = hi;
        b.lo = hi > bucket_elems_ ? hi - bucket_elems_ : 0;
        b.parts.assign(size_t(world), 0);
        size_t o = 0;
        for (int r = 0; r < world; r++) {
          const size_t lo = std::max(b.lo, o), up = std::min(b.hi, o + counts_[size_t(r)]);
          b.parts[size_t(r)] = up > lo ? up - lo : 0;
          o += counts_[size_t(r)];
        }
        const size_t lo = std::max(b.lo, begin);
        b.recv = lo > begin ? lo - begin : 0;
        buckets_.push_back(std::move(b));
        hi = buckets_.back().lo;
      }
    }
  }
}

void DataParallel::start_bucket(const Bucket& b, const float* grads) {
  comm_.start_reduce_scatter_sum(grads + b.lo, grad_shard_.data() + b.recv, b.parts);
}

void DataParallel::begin_backward(float* grads) {
  if (!overlap_) return;
  RWKV_CHECK(next_bucket_ == 0, "begin_backward: {} buckets of the last backward were never waited for", next_bucket_);
  bw_grads_ = grads;
}

void DataParallel::grads_ready(size_t from) {
  if (!overlap_ || !bw_grads_) return;
  while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].lo >= from)
    start_bucket(buckets_[next_bucket_++], bw_grads_);
  comm_.progress();  // a communicator without a progress thread advances them only here
}

double DataParallel::mean(double v) {
  if (comm_.size() == 1) return v;
  comm_.all_reduce_sum(&v, 1);
  return v / comm_.size();
}

void DataParallel::broadcast_params(float* params) {
  if (comm_.size() > 1) comm_.broadcast(params, total_ * sizeof(float), 0);
}

std::vector<double> DataParallel::optimizer_state_bytes_all() {
  std::vector<double> v(size_t(comm_.size()), 0.0);
  v[size_t(comm_.rank())] = double(optimizer_state_bytes());
  comm_.all_reduce_sum(v.data(), v.size());
  return v;
}

namespace {

double sum_squares(const float* g, size_t n) {
  double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static) if (n > 65536)
  for (int64_t i = 0; i < int64_t(n); i++) s += double(g[i]) * double(g[i]);
  return s;
}

void scale(float* g, size_t n, float c) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < int64_t(n); i++) g[i] *= c;
}

}  // namespace

double DataParallel::step(float* params, float* grads, double lr, double grad_clip) {
  const int world = comm_.size();
  if (world == 1) {  // the single-process step, exactly
    double gn = grad_norm(grads, total_);
    clip_grad_norm(grads, total_, gn, grad_clip);
    opt_->step(params, grads, lr);
    return gn;
  }
  const float inv_world = 1.f / float(world);
  const size_t own = shard_size(), begin = counts_owned_begin_;
  float* g = nullptr;  // this rank's part of the averaged gradient (own floats)
  if (strategy_ == DpStrategy::Zero2) {
    // Each bucket is reduce-scattered to the ranks owning it: with overlap the ones the backward
    // did not start are started now, then all are waited for; else one blocking call each.
    if (overlap_) {
      RWKV_CHECK(!bw_grads_ || bw_grads_ == grads, "step: not the gradient buffer of begin_backward");
      while (next_bucket_ < buckets_.size()) start_bucket(buckets_[next_bucket_++], grads);
      comm_.wait_all();
      next_bucket_ = 0;
      bw_grads_ = nullptr;
    } else {
      for (const Bucket& b : buckets_) comm_.reduce_scatter_sum(grads + b.lo, grad_shard_.data() + b.recv, b.parts);
    }
    g = grad_shard_.data();
  } else {
    comm_.all_reduce_sum(grads, total_);
    g = grads + begin;
  }
  // Ddp: own == total_ on every rank; the norm is still summed from equal parts of the buffer so
  // that every rank computes the same number.
  const std::vector<size_t> norm_part = strategy_ == DpStrategy::Ddp ? even_partition(total_, world) : counts_;
  const size_t nb = part_offset(norm_part, comm_.rank()), nn = norm_part[size_t(comm_.rank())];
  scale(g, own, inv_world);
  double ss = strategy_ == DpStrategy::Ddp ? sum_squares(grads + nb, nn) : sum_squares(g, own);
  comm_.all_reduce_sum(&ss, 1);
  const double gn = std::sqrt(ss);
  clip_grad_norm(g, own, gn, grad_clip);
  opt_->step_range(params + begin, g, lr);
  if (strategy_ != DpStrategy::Ddp) comm_.all_gather(params + begin, params, counts_);
  return gn;
}

}  // namespace rwkv::train
