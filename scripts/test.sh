#!/usr/bin/env bash
# test.sh — the project's test command: set up (packages, assets, build), run every test, then
# replay and fuzz the file parsers (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ctest --test-dir "${RWKV_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
scripts/fuzz.sh --seconds "${FUZZ_SECONDS:-30}"  # every parser under libFuzzer + ASan/UBSan
