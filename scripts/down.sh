#!/usr/bin/env bash
# Stop what scripts/up.sh started: its workers, then its server (each with its process group).
set -uo pipefail
cd "$(dirname "$0")/.."
run_dir=${INFLUENCERS_RUN_DIR:-.prefect/run}

stop() {
  local pid_file=$1 pid
  [ -f "$pid_file" ] || return 0
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    echo "stopped $(basename "$pid_file" .pid) (pid $pid)"
  fi
  rm -f "$pid_file"
}

for pid_file in "$run_dir"/worker-*.pid; do
  [ -e "$pid_file" ] && stop "$pid_file"
done
stop "$run_dir/server.pid"
