// assets.h — the one rule for finding upstream data files (vocabularies, corpora):
// $RWKV_ASSETS, else ./assets, else <source tree>/assets, else assets/ next to the binary.
#pragma once
#include <string>

namespace rwkv {

// Full path of assets/<name>; throws "[assets] ..." saying where it looked and how to provision.
std::string find_asset(const std::string& name);

}  // namespace rwkv
