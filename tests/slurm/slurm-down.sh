#!/usr/bin/env bash
# Stop the cluster that slurm-up.sh started in $S: cancel its jobs, stop each daemon by its
# recorded PID (SIGTERM, SIGKILL after 30 s), and remove the /etc/slurm symlinks into $S.
# Safe to run twice, or after a start that failed half-way.
#
#   S=/some/folder tests/slurm/slurm-down.sh
set -uo pipefail
S=${S:?set S to the cluster folder}
S=$(cd "$S" 2>/dev/null && pwd) || exit 0   # no folder, nothing was started

alive() { [ -f "$S/run/$1.pid" ] && kill -0 "$(cat "$S/run/$1.pid")" 2>/dev/null; }

if alive slurmctld; then
  jobs=$(squeue -h -o %i 2>/dev/null)
  if [ -n "$jobs" ]; then
    # shellcheck disable=SC2086  # one argument per job id
    scancel $jobs
    for _ in $(seq 100); do
      [ -z "$(squeue -h -t running,pending,completing -o %i 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
fi

stop() {
  local pid
  alive "$1" || { rm -f "$S/run/$1.pid"; return 0; }
  pid=$(cat "$S/run/$1.pid")
  kill -TERM "$pid"
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "slurm-down: $1 ($pid) ignored SIGTERM for 30 s, SIGKILL" >&2
    kill -KILL "$pid"
  fi
  rm -f "$S/run/$1.pid"
}
# slurmd before slurmctld, munged last: both SLURM daemons authenticate through munge.
for daemon in slurmd slurmctld munged; do stop "$daemon"; done

for f in /etc/slurm/slurm.conf /etc/slurm/gres.conf; do
  if [ -L "$f" ] && [[ "$(readlink "$f")" == "$S/"* ]]; then rm -f "$f"; fi
done
