// wkv4.h — the RWKV-4 recurrence ("WKV-4") over the T tokens of ONE sequence, per channel c,
// with w = -exp(time_decay) < 0 and u = time_first:
//   y[t] = (sum_{i<t} e^((t-1-i) w + k[i]) v[i] + e^(u + k[t]) v[t])
//        / (sum_{i<t} e^((t-1-i) w + k[i])      + e^(u + k[t]))
// computed as the `rwkv` pip package does, with the running max exponent pp so that exp()
// stays in range for any k: the state keeps aa = numerator * e^-pp, bb = denominator * e^-pp.
//   q  = max(pp, u + k);      e1 = e^(pp - q),     e2 = e^(u + k - q)
//   y  = sr * (e1 aa + e2 v) / (e1 bb + e2)
//   q' = max(pp + w, k);      e1 = e^(pp + w - q'), e2 = e^(k - q')
//   aa = e1 aa + e2 v;  bb = e1 bb + e2;  pp = q'
// sr is the receptance gate sigmoid(r) (multiplied in here, as the old code did, to keep the
// rounding), or 1. A fresh state is aa = bb = 0, pp = -1e30. Inference only (no backward).
#pragma once
#include <cstdint>

namespace rwkv {

// y, k, v: (T, C); sr: (T, C) or null (no gate); w, u: (C);
// aa, bb, pp: (C) the sequence's state, read and updated in place. OpenMP over channels.
void wkv4_forward(float* y, const float* sr, const float* k, const float* v, const float* w,
                  const float* u, float* aa, float* bb, float* pp, int T, int C);

}  // namespace rwkv
