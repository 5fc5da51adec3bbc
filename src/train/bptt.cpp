// bptt.cpp — segmented BPTT for RWKV-7 (see bptt.h): a forward sweep storing segment start
// states, then segments in reverse, each recomputed and back-propagated with the state gradient.
#include "train/bptt.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace rwkv {

size_t BpttScratch::state_bytes() const { return states.capacity() * sizeof(float); }

size_t BpttScratch::peak_bytes() const {
  return train.peak_bytes() + eval.peak_bytes() + state_bytes() +
         (dstate[0].capacity() + dstate[1].capacity()) * sizeof(float) +
         seg_tokens.capacity() * sizeof(int32_t);
}

namespace {

// seg (B, len+1) = tokens[:, t0 .. t0+len] of tokens (B, T+1).
void copy_segment(std::vector<int32_t>& seg, const int32_t* tokens, int B, int T, int t0, int len) {
  seg.resize(size_t(B) * size_t(len + 1));
  for (int b = 0; b < B; b++)
    std::memcpy(seg.data() + size_t(b) * (len + 1), tokens + int64_t(b) * (T + 1) + t0,
                sizeof(int32_t) * size_t(len + 1));
}

}  // namespace

BpttResult rwkv7_bptt_forward_backward(const Rwkv7Params& p, const int32_t* tokens, int B, int T,
                                       Rwkv7Params& g, BpttScratch& s, const BpttOptions& o,
                                       const int32_t* lengths) {
  if (o.ctx_len <= 0) fail("train", "ctx_len must be positive for BPTT (got {})", o.ctx_len);
  if (B <= 0 || T <= 0) fail("train", "BPTT needs at least one token per document (B {}, T {})", B, T);
  int64_t real = int64_t(B) * T;
  if (lengths) {
    real = 0;
    for (int b = 0; b < B; b++) {
      if (lengths[b] < 1 || lengths[b] > T)
        fail("train", "document {} has {} targets; it must have 1 to {}", b, lengths[b], T);
      real += lengths[b];
    }
  }
  const int nseg = (T + o.ctx_len - 1) / o.ctx_len;
  const int64_t S = rwkv7_state_floats(p.cfg);
  const size_t BS = size_t(B) * size_t(S);
  auto seg_len = [&](int k) { return std::min(o.ctx_len, T - k * o.ctx_len); };

  BpttResult r;
  r.segments = nseg;
  r.tokens = real;
  Rwkv7TrainState st;
  st.denom = double(real);  // every segment's loss and gradient as parts of the whole mean
  st.frozen_matrices = o.frozen_matrices;
  // Each segment's real rows per document (padding after a document's end).
  std::vector<int32_t> seg_lengths(static_cast<size_t>(B));
  auto set_segment = [&](int k) {
    const int t0 = k * o.ctx_len, len = seg_len(k);
    copy_segment(s.seg_tokens, tokens, B, T, t0, len);
    if (!lengths) return len;
    for (int b = 0; b < B; b++) seg_lengths[b] = std::clamp(lengths[b] - t0, 0, len);
    st.lengths = seg_lengths.data();
    return len;
  };

  // Start state of every segment; segment 0 starts from o.init_state (zeros without one).
  s.states.assign(size_t(nseg) * BS, 0.f);
  if (o.init_state) std::memcpy(s.states.data(), o.init_state, BS * sizeof(float));
  auto state = [&](int k) { return s.states.data() + size_t(k) * BS; };

  if (o.truncated) {  // in order: each segment's forward+backward, state carried as a constant
    for (int k = 0; k < nseg; k++) {
      const int len = set_segment(k);
      st.in = state(k);
      st.out = k + 1 < nseg ? state(k + 1) : nullptr;
      st.d_in = k == 0 ? o.d_init_state : nullptr;  // detached after segment 0: only its share
      st.accumulate = k > 0;
      r.loss += rwkv7_forward_backward(p, s.seg_tokens.data(), B, len, g, s.train, o.grad_cp,
                                       o.l2wrap, &st);
    }
    return r;
  }

  // Forward sweep: only the start states are kept.
  for (int k = 0; k + 1 < nseg; k++) {
    const int len = set_segment(k);
    st.in = state(k);
    st.out = state(k + 1);
    rwkv7_forward_loss(p, s.seg_tokens.data(), B, len, s.eval, nullptr, &st);
  }
  // Backward sweep: recompute segment k from its start state, back-propagate with d(end state)
  // from segment k+1 (none for the last), hand d(start state) on to segment k-1.
  s.dstate[0].assign(BS, 0.f);
  s.dstate[1].assign(BS, 0.f);
  st.out = nullptr;
  for (int k = nseg - 1; k >= 0; k--) {
    const int len = set_segment(k);
    float* d_end = s.dstate[k % 2].data();
    float* d_start = s.dstate[(k + 1) % 2].data();
    st.in = state(k);
    st.d_out = k + 1 < nseg ? d_end : nullptr;
    st.d_in = k > 0 ? d_start : o.d_init_state;
    st.accumulate = k + 1 < nseg;
    r.loss += rwkv7_forward_backward(p, s.seg_tokens.data(), B, len, g, s.train, o.grad_cp,
                                     o.l2wrap, &st);
  }
  return r;
}

}  // namespace rwkv
