# Shared by the lab host's apigee-service, apigee-all and generate-router-conf (POSIX sh).
# Installed as <apigee_root>/apigee-service/lib/lab-functions.sh; expects APIGEE_ROOT to be set.
# shellcheck shell=sh

# shellcheck source=/dev/null
. "$APIGEE_ROOT/etc/lab-host.env"

CUSTOMER_DIR="$APIGEE_ROOT/customer/application"

# Last value of KEY in a properties file (lines `KEY=value`, later lines win); fails when absent.
# The value is printed behind a marker so an empty value still counts as present.
prop_in_file() {
  [ -f "$1" ] || return 1
  _v=$(awk -v k="$2=" 'index($0, k) == 1 { v = substr($0, length(k) + 1); f = 1 } END { if (f) print "=" v }' "$1" | tr -d '\r')
  [ -n "$_v" ] || return 1
  printf '%s\n' "${_v#=}"
}

# prop COMPONENT_PROPS KEY DEFAULT: customer override first, then the component's token defaults.
# COMPONENT_PROPS is the customer file's base name (message-processor, router).
prop() {
  for f in "$CUSTOMER_DIR/$1.properties" "$(token_defaults "$1")"; do
    if _pv=$(prop_in_file "$f" "$2"); then
      printf '%s\n' "$_pv"
      return 0
    fi
  done
  printf '%s\n' "$3"
}

# conf_prop COMPONENT_PROPS FILE PROPERTY DEFAULT: the two documented key styles,
# conf_<file>_<property> and conf/<file>.properties+<property> (the later line wins);
# the customer file wins over the token defaults.
conf_prop() {
  for f in "$CUSTOMER_DIR/$1.properties" "$(token_defaults "$1")"; do
    [ -f "$f" ] || continue
    _v=$(awk -v a="conf_$2_$3=" -v b="conf/$2.properties+$3=" '
      index($0, a) == 1 { v = substr($0, length(a) + 1); f = 1 }
      index($0, b) == 1 { v = substr($0, length(b) + 1); f = 1 }
      END { if (f) print "=" v }' "$f" | tr -d '\r')
    if [ -n "$_v" ]; then
      printf '%s\n' "${_v#=}"
      return 0
    fi
  done
  printf '%s\n' "$4"
}

token_defaults() {
  case "$1" in
    message-processor) echo "$APIGEE_ROOT/edge-message-processor/token/default.properties" ;;
    router) echo "$APIGEE_ROOT/edge-router/token/default.properties" ;;
    *) echo "/nonexistent" ;;
  esac
}

# Alive = the process exists and is not a zombie. A JVM whose main thread has exited shows
# state Z for its pid while its other threads still run (and hold its ports), so any live
# thread counts.
is_alive() {
  [ -r "/proc/$1/status" ] || return 1
  awk '/^State:/ { s = $2 } /^Threads:/ { t = $2 } END { exit !((s != "Z" && s != "X") || t > 1) }' "/proc/$1/status" 2>/dev/null
}

# Prints the pid recorded in a pid file when that process is alive and its command line
# contains MARKER, so a recycled pid is never mistaken for the service.
live_pid() {
  [ -f "$1" ] || return 1
  _pid=$(tr -dc '0-9' < "$1" 2>/dev/null)
  [ -n "$_pid" ] || return 1
  is_alive "$_pid" || return 1
  tr '\0' ' ' < "/proc/$_pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 1
  echo "$_pid"
}

# Pids of live processes whose command line contains MARKER (a path unique to this host).
# The marker travels in the environment so awk's own command line never matches.
marker_pids() {
  ps -ww -eo pid=,args= 2>/dev/null | M="$1" awk 'index($0, ENVIRON["M"]) { print $1 }' | while read -r _p; do
    if is_alive "$_p"; then echo "$_p"; fi
  done
}

# Runs a command as the service user: setpriv when root (it execs, so no wrapper process stays
# between the service and its pid file), directly when we already are that user.
as_service_user() {
  if [ "$(id -u)" = 0 ] && [ "$SERVICE_USER" != root ]; then
    setpriv --reuid="$SERVICE_USER" --regid="$SERVICE_USER" --init-groups -- "$@"
  elif [ "$(id -un)" = "$SERVICE_USER" ]; then
    "$@"
  else
    echo "apigee-service: must be run as root or as $SERVICE_USER (try sudo)" >&2
    return 1
  fi
}

# Directories the service writes, owned by the service user like /opt/apigee/var on a real node.
ensure_service_dir() {
  for d in "$@"; do
    mkdir -p "$d"
    if [ "$(id -u)" = 0 ]; then chown "$SERVICE_USER:$SERVICE_USER" "$d"; fi
  done
}

# Waits up to $2 tenths of a second for a command to succeed.
wait_until() {
  _cmd=$1
  _n=0
  while [ "$_n" -lt "$2" ]; do
    if eval "$_cmd"; then return 0; fi
    sleep 0.1
    _n=$((_n + 1))
  done
  return 1
}
