#!/usr/bin/env bash
# infctx_memory.sh — infinite-context training in bounded memory: peak RSS of one
# `rwkv train --train_type infctx` step over a 4,096-token document and over a 65,536-token
# document (RWKV-7 L4-D256, vocab 256 (bytes), ctx_len 512, official init). Full BPTT keeps
# one segment's activations plus the start state of every segment, so the two peaks may differ
# only by the extra stored states: (segments_long - segments_short) * L*(2C + H*N*N) * 4 bytes,
# plus 10 %. Prints both peaks, the predicted difference and the verdict (exit 1 if over).
# SHORT / LONG / CTX override the lengths (CI-sized runs use smaller ones).
set -euo pipefail
cd "$(dirname "$0")/.."
RWKV=${RWKV_BUILD_DIR:-build}/rwkv
OUT=${OUT:-out/infctx_memory}
SHORT=${SHORT:-4096}
LONG=${LONG:-65536}
CTX=${CTX:-512}
L=4 C=256 H=4 N=64
rm -rf "$OUT"
mkdir -p "$OUT"

# One document of n tokens: n-1 random letters and the end-of-document token 0 (make-data).
doc() { printf '{"text": "%s"}\n' "$(LC_ALL=C tr -dc 'a-z ' < /dev/urandom | head -c $(($1 - 1)))"; }
COMMON=(--vocab_size 256 --n_layer $L --n_embd $C --head_size 64 --ctx_len "$CTX" --micro_bsz 1
        --train_type infctx --tokenizer bytes --lr_init 1e-4 --lr_final 1e-4 --epoch_save 0 --plot 0)
peak() {  # peak RSS (MiB) of one training step over a document of $1 tokens
  local dir="$OUT/doc$1"
  mkdir -p "$dir"
  doc "$1" > "$dir/doc.jsonl"
  $RWKV train "${COMMON[@]}" --proj_dir "$dir" --data_file "$dir/doc.jsonl" --train_stage 1 > /dev/null 2>&1
  $RWKV train "${COMMON[@]}" --proj_dir "$dir" --data_file "$dir/doc.jsonl" --train_stage 3 \
    --load_model "$dir/rwkv-init.pth" --my_exit_tokens $(($1 - 1)) > "$dir/train.txt" 2> "$dir/progress.txt"
  sed -n 's/.*peak memory (RSS) \([0-9.]*\) MiB.*/\1/p' "$dir/progress.txt" | tail -n 1
}
P_SHORT=$(peak "$SHORT")
P_LONG=$(peak "$LONG")
SEG_SHORT=$(( (SHORT - 1 + CTX - 1) / CTX ))
SEG_LONG=$(( (LONG - 1 + CTX - 1) / CTX ))
STATE_BYTES=$(( L * (2 * C + H * N * N) * 4 ))
awk -v ps="$P_SHORT" -v pl="$P_LONG" -v ss="$SEG_SHORT" -v sl="$SEG_LONG" -v sb="$STATE_BYTES" -v a="$SHORT" -v b="$LONG" 'BEGIN {
  pred = (sl - ss) * sb / 1048576; diff = pl - ps;
  printf "peak RSS: %d-token document %.1f MiB (%d segments), %d-token document %.1f MiB (%d segments)\n", a, ps, ss, b, pl, sl;
  printf "difference %.1f MiB; predicted extra segment states %d x %d bytes = %.1f MiB, bound (+10%%) %.1f MiB: %s\n",
         diff, sl - ss, sb, pred, 1.1 * pred, diff <= 1.1 * pred ? "within" : "OVER";
  exit diff <= 1.1 * pred ? 0 : 1 }'
