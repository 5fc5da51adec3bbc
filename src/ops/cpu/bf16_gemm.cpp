// bf16_gemm.cpp — see bf16_gemm.h. Without oneDNN (RWKV_HAVE_DNNL unset) every call says no.
#include "ops/cpu/bf16_gemm.h"

#include <atomic>
#include <vector>

#include "core/cpu_features.h"
#include "ops/cast.h"

#if defined(RWKV_HAVE_DNNL)
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace rwkv {

namespace {
std::atomic<bool> g_enabled{true};
}

void set_bf16_gemm_enabled(bool on) { g_enabled = on; }

bool bf16_gemm_available() {
#if defined(RWKV_HAVE_DNNL)
  static const bool cpu_ok = cpu_features().avx512_bf16 || cpu_features().amx_bf16;
  return cpu_ok && g_enabled;
#else
  return false;
#endif
}

#if defined(RWKV_HAVE_DNNL)
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

dnnl::engine& cpu_engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

}  // namespace
#endif

bool bf16_gemm(float* out, const float* inp, const uint16_t* W, int64_t M, int64_t N, int64_t K, bool accumulate) {
  if (!bf16_gemm_available() || M <= 0 || N <= 0 || K <= 0) return false;
  thread_local std::vector<uint16_t> xb;  // (M, K) bf16(inp)
  xb.resize(size_t(M * K));
  cast_f32_bf16_cpu(inp, xb.data(), M * K);  // round to nearest even
  return bf16_gemm_bf16x(out, N, xb.data(), W, M, N, K, accumulate);
}

bool bf16_gemm_bf16x(float* out, int64_t ldo, const uint16_t* xb, const uint16_t* W, int64_t M, int64_t N, int64_t K,
                     bool accumulate) {
  if (!bf16_gemm_available() || M <= 0 || N <= 0 || K <= 0 || ldo < N) return false;
#if defined(RWKV_HAVE_DNNL)
  try {
    dnnl::engine& eng = cpu_engine();
    thread_local dnnl::stream strm(eng);
    const dnnl::memory::desc x_md({M, K}, dt::bf16, tag::ab), w_md({K, N}, dt::bf16, tag::ba),
        y_md({M, N}, dt::f32, dnnl::memory::dims{ldo, 1});
    dnnl::primitive_attr attr;
    if (accumulate) {
      dnnl::post_ops po;
      po.append_sum(1.f);
      attr.set_post_ops(po);
    }
    // oneDNN keeps recently made primitives in its own cache: the same shape is not built twice
#if DNNL_VERSION_MAJOR >= 3
    const dnnl::matmul::primitive_desc pd(eng, x_md, w_md, y_md, attr);
#else
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(x_md, w_md, y_md), attr, eng);
#endif
    dnnl::matmul prim(pd);
    dnnl::memory x(x_md, eng, const_cast<uint16_t*>(xb)), w(w_md, eng, const_cast<uint16_t*>(W)), y(y_md, eng, out);
    prim.execute(strm, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, y}});
    strm.wait();
    return true;
  } catch (const dnnl::error&) {
    return false;  // a shape or machine oneDNN does not serve: the caller's path
  }
#else
  (void)out, (void)xb, (void)W, (void)accumulate;
  return false;
#endif
}

}  // namespace rwkv
