#!/usr/bin/env bash
# mpi_two_hosts.sh — issue 17 acceptance 6: "two machines in one". Two network namespaces joined
# by a veth pair are the hosts 10.217.0.1 and 10.217.0.2 (each rank sees only its own host's
# network); mpirun starts one rank on each over an rsh agent that enters the host's namespace
# (in place of ssh), OpenMPI talks TCP over the veth, and the run is compared with one process
# of the same real batch: every step's loss within 1e-5 (acceptance 1). Needs root (ip netns).
# STEPS (default 20) steps of the demo shape; the run folders stay in OUT (default a temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."
RWKV=$(realpath "${RWKV_BUILD_DIR:-build}/rwkv")
F=$(realpath "${RWKV_FIXTURES:-../shared/fixtures}/traj-demo-L4-D256-bytes")
STEPS=${STEPS:-20}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
A=rwkvA$$ B=rwkvB$$
cleanup() { ip netns del $A 2>/dev/null || true; ip netns del $B 2>/dev/null || true; }
trap cleanup EXIT
ip netns add $A
ip netns add $B
ip link add va$$ type veth peer name vb$$
ip link set va$$ netns $A
ip link set vb$$ netns $B
ip -n $A addr add 10.217.0.1/24 dev va$$
ip -n $B addr add 10.217.0.2/24 dev vb$$
for ns in $A $B; do ip -n $ns link set lo up; done
ip -n $A link set va$$ up
ip -n $B link set vb$$ up

# The "ssh" of these hosts: agent HOST CMD... runs CMD in HOST's namespace.
cat > "$OUT/agent.sh" <<EOF
#!/bin/sh
host=\$1; shift
case \$host in 10.217.0.1) ns=$A;; 10.217.0.2) ns=$B;; *) echo "agent: unknown host \$host" >&2; exit 1;; esac
exec ip netns exec \$ns sh -c "\$*"
EOF
chmod +x "$OUT/agent.sh"
printf '10.217.0.1 slots=1\n10.217.0.2 slots=1\n' > "$OUT/hosts"

COMMON=(train --load_model "$F/rwkv-init.pth" --data_file "$F/data" --data_type binidx --vocab_size 256
        --ctx_len 128 --n_layer 4 --n_embd 256 --head_size 64 --magic_prime 2309 --train_stage 3
        --my_exit_tokens $((STEPS * 8 * 128)) --lr_init 6e-4 --lr_final 6e-5 --warmup_steps 10
        --weight_decay 0.001 --grad_clip 1.0 --epoch_save 1 --precision fp32 --plot 0)
echo "== one process, micro_bsz 8"
"$RWKV" "${COMMON[@]}" --devices 1 --micro_bsz 8 --threads 2 --proj_dir "$OUT/one" > "$OUT/one.log" 2>&1
echo "== two hosts (namespaces $A, $B), one rank each, micro_bsz 4, OpenMPI over TCP"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ip netns exec $A mpirun --allow-run-as-root --hostfile "$OUT/hosts" -np 2 --map-by node --bind-to none \
  --mca plm_rsh_agent "$OUT/agent.sh" --mca btl tcp,self --mca btl_tcp_if_include 10.217.0.0/24 \
  --mca oob_tcp_if_include 10.217.0.0/24 --tag-output \
  sh -c 'echo "rank $OMPI_COMM_WORLD_RANK on $(ip -o -4 addr show scope global | awk "{print \$4}")"; exec "$0" "$@"' \
  "$RWKV" "${COMMON[@]}" --num_nodes 2 --devices 1 --micro_bsz 4 --threads 1 --proj_dir "$OUT/two" \
  > "$OUT/two.log" 2>&1 || { tail -30 "$OUT/two.log"; exit 1; }
grep -h "^\[1,[01]\]<stdout>:rank" "$OUT/two.log" | sort
python3 - "$OUT/one/metrics.jsonl" "$OUT/two/metrics.jsonl" "$STEPS" <<'EOF'
import json, sys
a = [json.loads(l)["loss"] for l in open(sys.argv[1])]
b = [json.loads(l)["loss"] for l in open(sys.argv[2])]
n = int(sys.argv[3])
assert len(a) == n and len(b) == n, (len(a), len(b))
worst = max(abs(x - y) for x, y in zip(a, b))
print(f"two hosts vs one process: {n} steps, max |loss diff| = {worst:.3g}")
sys.exit(0 if worst <= 1e-5 else 1)
EOF
