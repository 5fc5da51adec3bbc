// torch_powf.h — fp32 powers rounded exactly as torch's CPU `torch.pow(float_tensor, scalar)`.
//
// Why: the official RWKV-5.2/6 initialisation computes vectors like 1 - (i/C) ** r on fp32 tensors.
// torch does not call a correctly rounded pow there: its CPU kernel (aten PowKernel.cpp,
// pow_tensor_scalar_optimized_kernel) vectorises with Sleef's 1.0-ulp single-precision pow
// (Sleef_powf8_u10 / powf16_u10). That result differs from the correctly rounded std::pow in one
// ulp for a few inputs, so to reproduce the official initial weights bit for bit we evaluate the
// same algorithm, in the same order of fp32 operations and fused multiply-adds, here in scalar form.
//
// The algorithm (Sleef's "u10" powf, as described by its authors): x^y = exp(y * log|x|) where
// log is evaluated in double-float ("df", an unevaluated sum of two floats) arithmetic from the
// mantissa in [0.75, 1.5) via the atanh series in (m-1)/(m+1), the df log is multiplied by y in df,
// and exp is evaluated from the df product with Cody-Waite reduction by ln 2 and a degree-5
// polynomial, rounded to float once at the end; IEEE special values (0, inf, NaN, negative bases)
// are patched afterwards. The df helpers are the FMA variants (torch's AVX2/AVX-512 builds).
// Our own implementation; it must be compiled without floating-point contraction (CMakeLists.txt
// sets -ffp-contract=off for torch_powf.cpp) so that every non-fused multiply rounds.
#pragma once
#include <cstddef>

namespace rwkv {

// Sleef-style 1.0-ulp powf (the vector body torch uses for float tensors).
float powf_u10(float x, float y);

// One element of torch.pow(float_tensor, e) where the element goes through the vectorised body:
// e == 0 gives 1 and e == 1 the base (torch's early exits), 0.5 / -0.5 / -1 go to sqrt / rsqrt /
// reciprocal, 2 / 3 / -2 to products, everything else to powf_u10(x, float(e)).
float torch_pow_scalar(float x, double e);

// torch.pow(t, e) on a contiguous float tensor of n elements: torch's vectorised loop handles
// blocks of 2 vector widths and the remainder with the scalar std::pow(float, double) of the
// kernel's scalar lambda. `block` is 2 * the vector width in floats: 16 for AVX2 (the default
// here), 32 for AVX-512; for n a multiple of 32 both give the same result.
void torch_pow_tensor_scalar(const float* x, float* out, size_t n, double e, size_t block = 16);

}  // namespace rwkv
