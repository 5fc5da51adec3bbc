#!/usr/bin/env bash
# demo.sh — the main job on a built-in default: tokenize the demo corpus into binidx and
# print its magic prime (later: train a small model on it and generate from it).
set -euo pipefail
cd "$(dirname "$0")/.."
RWKV=${RWKV_BUILD_DIR:-build}/rwkv
mkdir -p out/demo
$RWKV make-data assets/demo.jsonl 1 512 --out out/demo/demo
$RWKV magic-prime --data out/demo/demo --ctx_len 512
