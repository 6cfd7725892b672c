#!/usr/bin/env bash
# Start a one-node SLURM cluster (Debian 12's slurm-wlm 22.05 and munge) whose config, state,
# logs and sockets all live in the folder $S. Needs root. No accounting database: job status
# comes from squeue. The only files outside $S are the symlinks /etc/slurm/slurm.conf (and
# gres.conf with fake GPUs); slurm-down.sh removes them.
#
#   S=/some/folder [FAKE_GPUS=N] [PARTITION=debug] tests/slurm/slurm-up.sh
#
# FAKE_GPUS=N declares N "gpu" GRES on the node, backed by character devices cloned from
# /dev/null: enough for SLURM to schedule GPU jobs and set CUDA_VISIBLE_DEVICES.
# Daemons run in the foreground under setsid; their PIDs go to $S/run/<daemon>.pid.
set -euo pipefail
S=${S:?set S to the cluster folder}
mkdir -p "$S" && S=$(cd "$S" && pwd)   # the /etc/slurm symlinks need an absolute path
FAKE_GPUS=${FAKE_GPUS:-0}
PARTITION=${PARTITION:-debug}
HOST=$(hostname -s)
SOCK=$S/munge-sock/munge.socket.2

fail() { echo "slurm-up: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "must run as root (the daemons run as root)"
for bin in munged mungekey slurmctld slurmd sinfo scontrol; do
  command -v "$bin" >/dev/null || fail "$bin not found (apt-get install slurm-wlm munge)"
done
# A real cluster's config is never replaced; a symlink left by an earlier run may be.
for f in /etc/slurm/slurm.conf /etc/slurm/gres.conf; do
  [ ! -e "$f" ] || [ -L "$f" ] || fail "$f exists and is not ours; refusing to replace it"
done

# wait_for SECONDS WHAT COMMAND...: poll every 0.1 s until COMMAND succeeds.
wait_for() {
  local tenths=$(($1 * 10)) what=$2
  shift 2
  for _ in $(seq "$tenths"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "timed out waiting for $what (logs in $S/log)"
}

# start NAME COMMAND...: a detached foreground daemon whose PID is recorded for slurm-down.sh.
start() {
  local name=$1
  shift
  setsid "$@" >"$S/log/$name.out" 2>&1 </dev/null &
  echo $! >"$S/run/$name.pid"
}

# munged refuses a socket below a folder that others cannot traverse (pytest's tmp folders).
dir=$S
while [ "$dir" != / ]; do
  [ "$(($(stat -c %a "$dir") % 2))" = 1 ] || fail "$dir is not o+x, which munged needs above its socket"
  dir=$(dirname "$dir")
done
mkdir -p "$S"/{etc,log,run,state/ctld,state/d,munge,munge-sock} /etc/slurm
chmod 700 "$S/munge"        # the key stays private
chmod 755 "$S/munge-sock"   # munged refuses a socket folder that others cannot traverse

[ -f "$S/munge/munge.key" ] || mungekey -c -k "$S/munge/munge.key"
start munged munged -F --key-file="$S/munge/munge.key" --socket="$SOCK" \
  --pid-file="$S/munge/munged.pid" --seed-file="$S/munge/munged.seed"
wait_for 10 munged bash -c "munge -S '$SOCK' -n | unmunge -S '$SOCK'"

GRES_TYPES="" NODE_GRES=""
rm -f /etc/slurm/gres.conf
if [ "$FAKE_GPUS" -gt 0 ]; then
  mkdir -p "$S/fakegpu"
  for i in $(seq 0 $((FAKE_GPUS - 1))); do
    # SLURM drops a GPU whose File= is not a device node.
    [ -e "$S/fakegpu/nvidia$i" ] || mknod "$S/fakegpu/nvidia$i" c 1 3
  done
  printf 'AutoDetect=off\nNodeName=%s Name=gpu File=%s/fakegpu/nvidia[0-%d]\n' \
    "$HOST" "$S" $((FAKE_GPUS - 1)) >"$S/etc/gres.conf"
  ln -sfn "$S/etc/gres.conf" /etc/slurm/gres.conf
  GRES_TYPES="GresTypes=gpu" NODE_GRES=" Gres=gpu:$FAKE_GPUS"
fi

# Below `slurmd -C`: a node that claims more memory than it has is marked invalid.
MEM_MB=$(($(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) * 85 / 100))
cat >"$S/etc/slurm.conf" <<EOF
ClusterName=teachwhy
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCK
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$S/state/ctld
SlurmdSpoolDir=$S/state/d
SlurmctldPidFile=$S/run/slurmctld.daemon.pid
SlurmdPidFile=$S/run/slurmd.daemon.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# Finished jobs stay visible to squeue for an hour: the status command, and the test's check
# that every job ran here, both read them.
MinJobAge=3600
KillWait=5
InactiveLimit=0
$GRES_TYPES
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$MEM_MB$NODE_GRES State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP DefMemPerCPU=500
EOF
# Job steps lose SLURM_CONF (the Snakemake jobstep plugin strips SLURM_* variables before its
# inner srun), so the config must sit at the compiled-in default path.
ln -sfn "$S/etc/slurm.conf" /etc/slurm/slurm.conf

# -c: a clean start; no jobs or node state from an earlier run of this folder.
start slurmctld slurmctld -D -c
wait_for 30 slurmctld bash -c "scontrol ping | grep -q UP"
start slurmd slurmd -D
wait_for 60 "the node to become idle" bash -c "sinfo -h -o %t | grep -qx idle"
sinfo
