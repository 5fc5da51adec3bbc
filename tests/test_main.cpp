// test_main.cpp — rwkv_tests' main: the OpenBLAS kernel choice of every rwkv program
// (ops/cpu/blas_core.h) first, so that the tests run the GEMMs the product runs, then gtest.
#include <gtest/gtest.h>

#include "ops/cpu/blas_core.h"

int main(int argc, char** argv) {
  rwkv::blas_core_startup(argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
