#!/bin/bash
# demo-training-run.sh — RWKV-LM RWKV-v7/train_temp/demo-training-run.sh with `python train.py`
# replaced by `rwkv train`, small data and sizes. Run demo-training-prepare.sh first (same sizes).
#
# The trainer loads the newest rwkv-*.pth in PROJ_DIR and continues from it (epoch_begin = N+1),
# so a killed run is resumed by running this script again. The official script deletes old
# checkpoints first so that they are not loaded; here that happens only with FRESH=1.
set -euo pipefail
cd "$(dirname "$0")/.."
RWKV=${RWKV:-build/rwkv}
#
MODEL_TYPE="x070" # x070 => rwkv-7.0
#
N_LAYER=${N_LAYER:-"2"}
N_EMBD=${N_EMBD:-"128"}
#
CTX_LEN=${CTX_LEN:-"128"} # !!! change magic_prime if you change ctx_len !!!
PROJ_DIR=${PROJ_DIR:-"out/L"$N_LAYER"-D"$N_EMBD"-"$MODEL_TYPE} # set output folder
DATA=${DATA:-"../shared/fixtures/traj-demo-L4-D256-bytes/data"}
VOCAB_SIZE=${VOCAB_SIZE:-256}
#
if [ "${FRESH:-0}" = 1 ]; then
  rm -f "$PROJ_DIR"/rwkv-*0.pth "$PROJ_DIR"/rwkv-71.pth "$PROJ_DIR"/rwkv-final.pth
fi
#
# Note bsz & lr affects model & training performance
# Small data => use smaller bsz & slightly smaller LR
#
M_BSZ=${M_BSZ:-"8"} # num_nodes*devices*micro_bsz must divide 40320 (one mini-epoch)
LR_INIT=${LR_INIT:-"6e-4"}
LR_FINAL=${LR_FINAL:-"6e-5"}
GRAD_CP=${GRAD_CP:-0} # 1 => recompute in the backward: less memory, slower
EPOCH_SAVE=${EPOCH_SAVE:-1} # save every N "miniepochs" (1 miniepoch = 40320 * ctx_len tokens)
#
# magic_prime = the largest 3n+2 prime smaller than datalen/ctxlen-1 (= 296553/128-1 = 2315.8 here) = 2309
#
MAGIC_PRIME=${MAGIC_PRIME:-2309}
EXIT_TOKENS=${EXIT_TOKENS:-296553}
N_NODE=1 # number of nodes
GPU_PER_NODE=1 # number of devices per node
#
$RWKV train --load_model "0" --wandb "" --proj_dir $PROJ_DIR --my_testing $MODEL_TYPE \
 --ctx_len $CTX_LEN --train_stage 3 --epoch_count 999999 --epoch_begin 0 \
 --data_file "$DATA" --my_exit_tokens $EXIT_TOKENS --magic_prime $MAGIC_PRIME \
 --num_nodes $N_NODE --micro_bsz $M_BSZ --n_layer $N_LAYER --n_embd $N_EMBD \
 --lr_init $LR_INIT --lr_final $LR_FINAL --warmup_steps 10 --beta1 0.9 --beta2 0.99 --adam_eps 1e-18 --data_type "binidx" --vocab_size $VOCAB_SIZE \
 --weight_decay 0.001 --epoch_save $EPOCH_SAVE --head_size 64 --head_chunk 0 \
 --accelerator cpu --devices $GPU_PER_NODE --precision bf16 --strategy deepspeed_stage_2 --grad_cp $GRAD_CP --enable_progress_bar True
