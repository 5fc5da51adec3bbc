#!/usr/bin/env bash
# setup.sh — make this checkout ready: install the Debian packages the build needs (only
# when something is missing; oneDNN serves bf16 prefill products; clang, its sanitizer/libFuzzer runtimes and libomp build the
# fuzzers of scripts/fuzz.sh; chromium, node and npm serve the browser tests, whose npm
# packages come from tests/browser/package-lock.json; OpenMPI runs multi-process training), provision assets/ (from
# ../shared/assets, else download and check SHA-256), then configure and build into build/
# (binary: build/rwkv).
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential cmake ninja-build pkg-config ca-certificates curl python3 tmux
      libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev libfmt-dev
      libspdlog-dev libopenblas-dev libdnnl-dev libcpp-httplib-dev chromium clang libclang-rt-dev libomp-dev
      openmpi-bin libopenmpi-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from elsewhere (e.g. NodeSource, whose nodejs conflicts with Debian's npm).
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ---- browser tests: playwright-core (tests/browser/package-lock.json) drives the system chromium ----
if [ ! -f tests/browser/node_modules/playwright-core/package.json ] ||
   [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
  echo "setup: npm ci in tests/browser"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

# ---- assets ----
declare -A URL=(
  [rwkv_vocab_v20230424.txt]=https://raw.githubusercontent.com/BlinkDL/RWKV-LM/main/RWKV-v5/tokenizer/rwkv_vocab_v20230424.txt
  [20B_tokenizer.json]=https://raw.githubusercontent.com/BlinkDL/RWKV-LM/main/RWKV-v4/20B_tokenizer.json
  [lambada_test.jsonl]=https://raw.githubusercontent.com/BlinkDL/RWKV-LM/main/RWKV-v7/misc/lambada_test.jsonl
  [demo.jsonl]=https://raw.githubusercontent.com/BlinkDL/RWKV-LM/main/RWKV-v5/demo.jsonl
)
declare -A SHA=(
  [20B_tokenizer.json]=56ac4821e129d2c520fdaba60abd920fa852ada51b45c0dd52bbb6bd8c985ade
  [demo.jsonl]=f9386d3bd2673f0b2dab4ccf4d98cca349aa899bf7ad9095851a086f1ed951d9
  [lambada_test.jsonl]=4aa8d02cd17c719165fc8a7887fddd641f43fcafa4b1c806ca8abc31fabdb226
  [rwkv_vocab_v20230424.txt]=8324476023347dec2964625ccb2075c864d250a9c6d9a74f36daba628de8c008
)
mkdir -p assets
for f in "${!SHA[@]}"; do
  if [ -f "assets/$f" ] && echo "${SHA[$f]}  assets/$f" | sha256sum -c --status; then continue; fi
  if [ -f "../shared/assets/$f" ]; then
    cp "../shared/assets/$f" "assets/$f.tmp"
  else
    echo "setup: downloading $f"
    curl -fsSL --retry 3 -o "assets/$f.tmp" "${URL[$f]}"
  fi
  if ! echo "${SHA[$f]}  assets/$f.tmp" | sha256sum -c --status; then
    rm -f "assets/$f.tmp"
    echo "setup: error: assets/$f does not match its SHA-256 ${SHA[$f]}" >&2
    exit 1
  fi
  mv "assets/$f.tmp" "assets/$f"
done

# ---- build ----
BUILD_DIR=${RWKV_BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release ${RWKV_CMAKE_ARGS:-}
fi
cmake --build "$BUILD_DIR" -j "$(nproc)"
echo "setup: built $BUILD_DIR/rwkv"
