#!/usr/bin/env bash
# test.sh — the project's test command: set up (packages, assets, build), then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ctest --test-dir "${RWKV_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
