# shellcheck shell=bash
# Set-up for bench/fanout (sourced): prerequisites, the login user, one loopback sshd, and the
# inventories, runbooks, playbooks and ssh_config every tool reads. Expects WORK, ROOT, NS, BIG_N,
# HUGE_N.

BENCH_USER_DEFAULT=remedy-bench
BENCH_USER_HOME=/var/lib/remedy-bench
SSHD_BIN=/usr/sbin/sshd

# Debian packages: openssh-server (sshd), pssh (parallel-ssh), ansible, time (/usr/bin/time).
install_prereqs() {
  local missing=()
  [ -x "$SSHD_BIN" ] || missing+=(openssh-server)
  command -v ssh >/dev/null || missing+=(openssh-client)
  command -v parallel-ssh >/dev/null || missing+=(pssh)
  command -v ansible-playbook >/dev/null || missing+=(ansible)
  [ -x /usr/bin/time ] || missing+=(time)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "fanout: installing ${missing[*]} (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq "${missing[@]}" >&2 ||
      echo "fanout: apt-get install ${missing[*]} failed; the tools still missing are skipped" >&2
  else
    echo "fanout: missing ${missing[*]} and not root with apt-get: the tools that need them are skipped" >&2
  fi
}

# The remote login: as root, a dedicated user whose home is empty (no rc file runs pyenv or
# anything else per command); otherwise the current user, with HOME pointed at an empty dir by
# sshd's SetEnv. Sets BENCH_USER and SESSION_HOME_SETENV.
prepare_login_user() {
  SESSION_HOME_SETENV=""
  if [ "$(id -u)" -ne 0 ]; then
    BENCH_USER=$(id -un)
    mkdir -p "$WORK/home"
    SESSION_HOME_SETENV="SetEnv HOME=$WORK/home"
    return
  fi
  BENCH_USER=$BENCH_USER_DEFAULT
  if ! id "$BENCH_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir "$BENCH_USER_HOME" --shell /bin/bash \
      --comment "remedy bench/fanout login" "$BENCH_USER"
  fi
  # '*': no password, but not locked ('!'), which sshd without PAM refuses.
  usermod -p '*' "$BENCH_USER"
  local home
  home=$(getent passwd "$BENCH_USER" | cut -d: -f6)
  # Only ever empty the home of the user this script created.
  if getent passwd "$BENCH_USER" | cut -d: -f5 | grep -q '^remedy bench/fanout login$'; then
    mkdir -p "$home"
    find "$home" -mindepth 1 -delete
    chown "$BENCH_USER:" "$home"
    chmod 755 "$home"
  else
    echo "fanout: user $BENCH_USER exists but was not made by this script; using it as is" >&2
  fi
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# One sshd on 127.0.0.1:PORT, its own host key, pubkey auth only, MaxSessions left at 10,
# MaxStartups high enough for the largest fleet's simultaneous handshakes (BIG_N, HUGE_N), bounded
# by `timeout`.
start_sshd() {
  local cfg=$WORK/sshd_config sftp
  sftp=$(ls /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server 2>/dev/null | head -1)
  ssh-keygen -q -t ed25519 -N '' -C remedy-bench-host -f "$WORK/host_ed25519"
  ssh-keygen -q -t ed25519 -N '' -C remedy-bench-client -f "$WORK/client_ed25519"
  cp "$WORK/client_ed25519.pub" "$WORK/authorized_keys"
  chmod 644 "$WORK/authorized_keys"
  PORT=$(free_port)
  local biggest=$((HUGE_N > BIG_N ? HUGE_N : BIG_N))
  local startups=$((biggest > 100 ? biggest * 2 : 200))
  cat >"$cfg" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $WORK/host_ed25519
AuthorizedKeysFile $WORK/authorized_keys
PidFile $WORK/sshd.pid
AllowUsers $BENCH_USER
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
MaxStartups $startups:30:$((startups + 100))
PrintMotd no
PrintLastLog no
UseDNS no
LogLevel ERROR
${sftp:+Subsystem sftp $sftp}
$SESSION_HOME_SETENV
EOF
  [ "$(id -u)" -eq 0 ] && mkdir -p /run/sshd
  timeout --kill-after=5 "$SSHD_LIFETIME" "$SSHD_BIN" -D -e -f "$cfg" 2>>"$WORK/sshd.log" &
  SSHD_WRAPPER_PID=$!
  local i
  for i in $(seq 1 200); do
    [ -s "$WORK/sshd.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    kill -0 "$SSHD_WRAPPER_PID" 2>/dev/null || { cat "$WORK/sshd.log" >&2; return 1; }
    sleep 0.05
  done
  SSHD_PID=$(cat "$WORK/sshd.pid")
  echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$WORK/host_ed25519.pub")" >"$WORK/known_hosts"
}

# Stops what start_sshd started, by PID: the per-connection children, the listener, the wrapper.
stop_sshd() {
  local p
  if [ -n "${SSHD_PID:-}" ]; then
    for p in $(ps -o pid= --ppid "$SSHD_PID" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
    kill -TERM "$SSHD_PID" 2>/dev/null
  fi
  [ -n "${SSHD_WRAPPER_PID:-}" ] && kill -TERM "$SSHD_WRAPPER_PID" 2>/dev/null
  [ -n "${SSHD_WRAPPER_PID:-}" ] && wait "$SSHD_WRAPPER_PID" 2>/dev/null
  SSHD_PID="" SSHD_WRAPPER_PID=""
}

# Quotes a string as a YAML single-quoted scalar.
yq() { printf "'%s'" "${1//\'/\'\'}"; }

alias_of() { printf 'h-%03d' "$1"; }

write_steps() {
  mkdir -p "$WORK/steps" "$WORK/runbooks" "$WORK/playbooks"
  printf '%s\n' 'uptime' 'cat /proc/loadavg' 'grep -c error /etc/services || true' 'ls /tmp >/dev/null' 'echo done' >"$WORK/steps/w.txt"
  yes true | head -5 >"$WORK/steps/true5.txt"
  yes true | head -50 >"$WORK/steps/true50.txt"
  local rb i cmd
  for rb in w true5 true50; do
    {
      echo "name: fanout-$rb"
      echo "summary: bench/fanout read-only runbook $rb"
      echo "steps:"
      i=0
      while IFS= read -r cmd; do
        i=$((i + 1))
        echo "  - id: s$i"
        echo "    name: $(yq "$cmd")"
        echo "    hosts: all"
        echo "    run: $(yq "$cmd")"
      done <"$WORK/steps/$rb.txt"
    } >"$WORK/runbooks/fanout-$rb.yaml"
    {
      echo "- hosts: all"
      echo "  gather_facts: no"
      echo "  tasks:"
      i=0
      while IFS= read -r cmd; do
        i=$((i + 1))
        echo "    - name: s$i"
        echo "      ansible.builtin.shell: $(yq "$cmd")"
      done <"$WORK/steps/$rb.txt"
    } >"$WORK/playbooks/$rb.yml"
  done
}

# For each N: remedy's YAML inventory, Ansible's INI inventory (aliases resolved by ssh_config,
# so each alias gets its own ControlPersist master) and a plain host list (pssh, bashcm).
write_inventories() {
  mkdir -p "$WORK/inv"
  local n i a
  for n in "$@"; do
    {
      echo "all:"
      echo "  vars:"
      echo "    ansible_host: 127.0.0.1"
      echo "    ansible_port: $PORT"
      echo "    ansible_user: $(yq "$BENCH_USER")"
      echo "    ansible_ssh_private_key_file: $(yq "$WORK/client_ed25519")"
      echo "    remedy_known_hosts: $(yq "$WORK/known_hosts")"
      echo "  hosts:"
      for i in $(seq 1 "$n"); do echo "    $(alias_of "$i"): {}"; done
    } >"$WORK/inv/remedy-$n.yaml"
    : >"$WORK/inv/hosts-$n.txt"
    for i in $(seq 1 "$n"); do echo "$(alias_of "$i")" >>"$WORK/inv/hosts-$n.txt"; done
    {
      echo "[all]"
      cat "$WORK/inv/hosts-$n.txt"
      echo "[all:vars]"
      echo "ansible_ssh_common_args='-F $WORK/ssh_config'"
    } >"$WORK/inv/ansible-$n.ini"
  done
}

write_ssh_config() {
  cat >"$WORK/ssh_config" <<EOF
Host h-*
  HostName 127.0.0.1
  Port $PORT
  User $BENCH_USER
  IdentityFile $WORK/client_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $WORK/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
EOF
  mkdir -p "$WORK/ansible-home" "$WORK/cp/ansible" "$WORK/cp/bashcm"
  # Pipelining + ControlPersist, as in perf-baselines.md; host_key_checking off for Ansible only
  # (the ssh_config above still checks keys strictly for ssh and pssh).
  cat >"$WORK/ansible.cfg" <<EOF
[defaults]
host_key_checking = False
retry_files_enabled = False
local_tmp = $WORK/ansible-home/tmp
[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=60s
control_path_dir = $WORK/cp/ansible
EOF
}

# Closes ControlPersist masters left in DIR (untimed, between runs, so every run starts cold).
close_masters() {
  local s
  for s in "$1"/*; do
    [ -S "$s" ] && ssh -o "ControlPath=$s" -O exit bench-master >/dev/null 2>&1
  done
  return 0
}

# One sanity login: the key, the known_hosts line and the clean shell (no output from rc files).
check_login() {
  local out
  out=$(ssh -F "$WORK/ssh_config" h-001 'echo "user=$(id -un) home=$HOME"; command -v pyenv || true' 2>&1) || {
    echo "fanout: cannot log in to the bench sshd: $out" >&2
    cat "$WORK/sshd.log" >&2
    return 1
  }
  if ! [[ "$out" =~ ^user=$BENCH_USER\ home=[^[:space:]]+$ ]]; then
    echo "fanout: the remote shell is not clean (rc files print or set up pyenv): $out" >&2
    return 1
  fi
  echo "fanout: sshd pid $SSHD_PID on 127.0.0.1:$PORT, login $BENCH_USER (clean shell)" >&2
}
