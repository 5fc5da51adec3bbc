#!/bin/bash
# demo-training-prepare.sh — RWKV-LM RWKV-v7/train_temp/demo-training-prepare.sh with
# `python train.py` replaced by `rwkv train`, and the data and sizes made small: it writes the
# official initial weights to $PROJ_DIR/rwkv-init.pth (--train_stage 1) and stops.
# Every size can be overridden from the environment (the tests use a tiny model).
#
# Data: the demo corpus as UTF-8 bytes (vocab 256, 296,553 tokens) from ../shared/fixtures,
# or any binidx via DATA=prefix VOCAB_SIZE=... MAGIC_PRIME=... (see `rwkv magic-prime`).
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
# magic_prime = the largest 3n+2 prime smaller than datalen/ctxlen-1 (= 296553/128-1 = 2315.8 here) = 2309
#
MAGIC_PRIME=${MAGIC_PRIME:-2309}
EXIT_TOKENS=${EXIT_TOKENS:-296553}
#
$RWKV train --wandb "" --proj_dir $PROJ_DIR \
 --data_file "$DATA" --data_type "binidx" --vocab_size $VOCAB_SIZE --my_testing $MODEL_TYPE \
 --ctx_len $CTX_LEN --train_stage 1 --epoch_count 1 --epoch_begin 0 \
 --epoch_save 1 --weight_decay 0 --head_size 64 \
 --num_nodes 1 --micro_bsz 1 --n_layer $N_LAYER --n_embd $N_EMBD --my_exit_tokens $EXIT_TOKENS --magic_prime $MAGIC_PRIME \
 --lr_init 1e-5 --lr_final 1e-5 --warmup_steps 10 --beta1 0.9 --beta2 0.99 --adam_eps 1e-8 \
 --accelerator cpu --devices 1 --precision bf16 --strategy deepspeed_stage_2 --grad_cp 1
