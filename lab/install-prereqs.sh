#!/usr/bin/env bash
# Installs the Debian packages the lab and the end-to-end tests need: OpenSSH's server (real
# sshd per lab host), nginx (the Routers), a JDK (jstack/jmap/jcmd on the MPs), sudo, curl, jq,
# tmux (guided-mode terminal tests), chromium (the report rendering test drives it headless), redis-server
# (`remedy serve` starts a private one). Idempotent and quick when everything is present.
# Without root it only reports what is missing.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "$1" ]; }
have /usr/sbin/sshd || need+=(openssh-server)
have ssh || need+=(openssh-client)
have /usr/sbin/nginx || need+=(nginx)
have jstack && have javac && have keytool || need+=(openjdk-17-jdk-headless)
have sudo || need+=(sudo)
have curl || need+=(curl)
have jq || need+=(jq)
have tmux || need+=(tmux)
have /usr/bin/chromium || need+=(chromium)
have ss || need+=(iproute2)
have pgrep || need+=(procps)
have setpriv && have setsid || need+=(util-linux)
have ssh-keygen || need+=(openssh-client)
have openssl || need+=(openssl)
have redis-server || need+=(redis-server)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "remedy: missing Debian packages: ${need[*]}" >&2
  echo "remedy: run as root: apt-get update && apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "remedy: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Packages must not start their services: the lab runs its own sshd and nginx on loopback.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
