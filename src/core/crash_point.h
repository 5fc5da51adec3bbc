// crash_point.h — a test hook for interrupt tests: crash_point("binidx:bin-renamed") kills the
// process with SIGKILL right there when $RWKV_CRASH_AT equals that name, so a test can stop a
// multi-file commit at every step (tests/test_make_data_kill.cpp). Costs one getenv per call.
#pragma once

namespace rwkv {

void crash_point(const char* name);

}  // namespace rwkv
