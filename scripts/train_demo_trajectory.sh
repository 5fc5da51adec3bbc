#!/bin/bash
# train_demo_trajectory.sh — acceptance 3 of `rwkv train`: the full 300-step demo run of
# ../shared/fixtures/traj-demo-L4-D256-bytes (fp32 on the CPU), then checks its metrics.jsonl
# against the official trajectory: every 25-step window mean within ±0.015, mean |Δloss| ≤ 0.01
# (the check is TrainTrajectory.CheckMetricsFile in build/rwkv_tests).
# Usage: scripts/train_demo_trajectory.sh [proj_dir]   (default: a fresh temp folder)
# RANKS=N (issue 17): the same run as N data-parallel processes under mpirun (--devices N
# --micro_bsz 8/N --threads 1: the same real batch and samples).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${RWKV_BUILD_DIR:-build}
F=${RWKV_FIXTURES:-../shared/fixtures}/traj-demo-L4-D256-bytes
PROJ=${1:-$(mktemp -d /tmp/rwkv-traj.XXXXXX)}
rm -f "$PROJ"/metrics.jsonl "$PROJ"/train_log.txt "$PROJ"/rwkv-*.pth
LAUNCH=() RANK_FLAGS=""
RANKS=${RANKS:-1}
if [ "$RANKS" -gt 1 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
  LAUNCH=(mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$RANKS")
  RANK_FLAGS="--devices $RANKS --micro_bsz $((8 / RANKS)) --threads 1"
fi
start=$(date +%s)
"${LAUNCH[@]}" $BUILD/rwkv train --load_model $F/rwkv-init.pth --data_file $F/data --data_type binidx --vocab_size 256 \
  --ctx_len 128 --micro_bsz 8 --n_layer 4 --n_embd 256 --lr_init 6e-4 --lr_final 6e-5 --warmup_steps 10 \
  --beta1 0.9 --beta2 0.99 --adam_eps 1e-18 --weight_decay 0.001 --my_exit_tokens 307200 --magic_prime 2309 \
  --train_stage 3 --proj_dir "$PROJ" --precision fp32 $RANK_FLAGS ${TRAIN_EXTRA:-}
echo "run took $(( $(date +%s) - start )) s; outputs in $PROJ"
test -f "$PROJ/rwkv-final.pth" || { echo "no rwkv-final.pth: the run did not reach my_exit_tokens"; exit 1; }
RWKV_TRAJ_METRICS="$PROJ/metrics.jsonl" $BUILD/rwkv_tests --gtest_filter=TrainTrajectory.CheckMetricsFile
