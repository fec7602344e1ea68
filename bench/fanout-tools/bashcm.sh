#!/usr/bin/env bash
# The OpenSSH ControlMaster loop of bench/fanout: for each step, `ssh host cmd &` on every host
# (the first step makes each alias its own master, later steps reuse it), wait for all, count
# exit codes; then close the masters (inside the timed region: it is cheap).
#   bashcm.sh SSH_CONFIG CONTROL_DIR HOSTS_FILE STEPS_FILE
set -u
cfg=$1 cpdir=$2 hosts_file=$3 steps_file=$4
mapfile -t hosts <"$hosts_file"
mapfile -t steps <"$steps_file"
mkdir -p "$cpdir"
opts=(-F "$cfg" -o ControlMaster=auto -o "ControlPath=$cpdir/%n" -o ControlPersist=60s)
ok=0
for cmd in "${steps[@]}"; do
  [ -n "$cmd" ] || continue
  pids=()
  for h in "${hosts[@]}"; do
    ssh "${opts[@]}" "$h" "$cmd" >/dev/null 2>>"$cpdir/errors.log" </dev/null &
    pids+=($!)
  done
  for p in "${pids[@]}"; do
    if wait "$p"; then ok=$((ok + 1)); fi
  done
done
for h in "${hosts[@]}"; do
  ssh "${opts[@]}" -O exit "$h" 2>/dev/null &
done
wait
echo "execs-ok=$ok"
[ "$ok" -eq $(( ${#hosts[@]} * $(grep -c . "$steps_file") )) ]
