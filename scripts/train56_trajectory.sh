#!/bin/bash
# train56_trajectory.sh — acceptance 3 of `rwkv train --my_testing x052|x060`: the full 200-step
# run of ../shared/fixtures/train56/traj-<version>-bytes through the CLI, with the flags of
# RWKV-LM's RWKV-v5 demo-training-run.sh (stage 3, --load_model 0: the run picks rwkv-init.pth
# from --proj_dir, copied there from the fixture as demo-training-prepare.sh would have written
# it), then checks its metrics.jsonl against the official trajectory.json (every 25-step window
# mean within 0.02, mean |Δloss| <= 0.015, lr to 1e-12): Train56Trajectory.CheckMetricsFile.
# Usage: scripts/train56_trajectory.sh x052|x060 [proj_dir]   (default: a fresh temp folder)
set -euo pipefail
cd "$(dirname "$0")/.."
V=${1:?usage: $0 x052|x060 [proj_dir]}
BUILD=${RWKV_BUILD_DIR:-build}
FX=${RWKV_FIXTURES:-../shared/fixtures}
F=$FX/train56/traj-$V-bytes
D=$FX/traj-demo-L4-D256-bytes
PROJ=${2:-$(mktemp -d /tmp/rwkv-traj56.XXXXXX)}
mkdir -p "$PROJ"
rm -f "$PROJ"/metrics.jsonl "$PROJ"/train_log.txt "$PROJ"/rwkv-*.pth
cp "$F/rwkv-init.pth" "$PROJ/rwkv-init.pth"
start=$(date +%s)
$BUILD/rwkv train --load_model 0 --wandb "" --proj_dir "$PROJ" --my_testing $V --ctx_len 128 --my_pile_stage 3 \
  --epoch_count 999999 --epoch_begin 0 --data_file $D/data --my_exit_tokens 204800 --magic_prime 2309 \
  --num_nodes 1 --micro_bsz 8 --n_layer 2 --n_embd 128 --pre_ffn 0 --head_qk 0 --lr_init 6e-4 --lr_final 6e-5 \
  --warmup_steps 10 --beta1 0.9 --beta2 0.99 --adam_eps 1e-18 --my_pile_edecay 0 --data_type binidx \
  --vocab_size 256 --weight_decay 0.001 --epoch_save 10 --head_size_a 64 --accelerator cpu --devices 1 \
  --precision bf16 --strategy deepspeed_stage_2 --grad_cp 1 --ds_bucket_mb 2 ${TRAIN_EXTRA:-}
echo "run took $(( $(date +%s) - start )) s; outputs in $PROJ"
test -f "$PROJ/rwkv-final.pth" || { echo "no rwkv-final.pth: the run did not reach my_exit_tokens"; exit 1; }
RWKV_TRAJ56_METRICS="$PROJ/metrics.jsonl" RWKV_TRAJ56_VERSION=$V $BUILD/rwkv_tests \
  --gtest_filter=Train56Trajectory.CheckMetricsFile
