#!/usr/bin/env bash
# parallel-ssh for bench/fanout: one `parallel-ssh -p N` invocation per step (pssh has no notion
# of a multi-step runbook), so every step opens a fresh connection to every host.
#   pssh.sh SSH_CONFIG HOSTS_FILE STEPS_FILE
set -u
cfg=$1 hosts_file=$2 steps_file=$3
n=$(grep -c . "$hosts_file")
rc=0
mapfile -t steps <"$steps_file"
for cmd in "${steps[@]}"; do
  [ -n "$cmd" ] || continue
  parallel-ssh -h "$hosts_file" -p "$n" -t 120 -x "-F $cfg" -i "$cmd" </dev/null || rc=1
done
exit "$rc"
