// state_pool.h — N slots of recurrent state for one model, in ONE allocation (the model's
// StateLayout decides what a slot holds: RWKV-7's att_x / wkv / ffn_x per layer, RWKV-4's five
// vectors, ...). A slot is one sequence; the engine's forward reads and updates slots in place.
// Slots can be reset to the fresh state, copied, snapshotted to host floats and restored, and
// converted to / from the named tensors that state files store.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "core/tensor.h"
#include "model/model.h"

namespace rwkv {

class StatePool {
 public:
  // n_slots fresh slots (the layout's initial state). `owner` names the model the pool is for
  // (Engine::make_pool sets it; the engine refuses a pool of another model).
  StatePool(const StateLayout& layout, int n_slots, Allocator& alloc = cpu_allocator(), std::string owner = "");

  int size() const { return n_; }
  const std::string& owner() const { return owner_; }
  int64_t slot_floats() const { return layout_.floats; }
  const StateLayout& layout() const { return layout_; }
  Device device() const { return buf_.device(); }

  float* slot(int i);  // (slot_floats) fp32; throws "[state] ..." for a bad index
  const float* slot(int i) const;

  void zero(int i);              // the fresh state (not necessarily all zeros)
  void copy(int src, int dst);   // dst = src
  // Host copy of slot i (slot_floats floats), and back (size checked).
  std::vector<float> snapshot(int i) const;
  void restore(int i, std::span<const float> host);

  // The slot as named fp32 tensors (copies), in layout order: "state.{l}.<part>".
  StateDict to_state_dict(int i) const;
  // Sets slot i from named tensors: every part must be there with its shape (a leading batch
  // dim of 1 is accepted); any float dtype. Throws "[state] <source>: ..." naming the tensor,
  // and leaves the slot unchanged then.
  void from_state_dict(int i, const StateDict& sd, const std::string& source);

 private:
  StateLayout layout_;
  std::string owner_;
  int n_ = 0;
  Buffer buf_;  // (n_, slot_floats)
};

}  // namespace rwkv
