// error.h — the project's error type and invariant checks.
// Library code throws rwkv::Error with a "[module] " prefix naming the file/field at fault;
// only the CLI and the server catch it. RWKV_CHECK is for internal invariants (file:line).
#pragma once
#include <fmt/format.h>
#include <stdexcept>
#include <string>

namespace rwkv {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// fail("pth", "{}: truncated record '{}'", path, key) -> throws "[pth] ...".
template <typename... Args>
[[noreturn]] void fail(const char* module, fmt::format_string<Args...> f, Args&&... args) {
  throw Error(fmt::format("[{}] ", module) + fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace rwkv

#define RWKV_CHECK(cond, ...)                                                           \
  do {                                                                                  \
    if (!(cond))                                                                        \
      throw ::rwkv::Error(::fmt::format("[check] {}:{}: {} failed: ", __FILE__, __LINE__, \
                                        #cond) + ::fmt::format(__VA_ARGS__));           \
  } while (0)
