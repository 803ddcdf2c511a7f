#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/server/stop.sh -- stop what tests/server/start.sh started (Postfix,
# Dovecot, smtp-sink, the OAuth provider).
#   --purge  also delete the state dir (certificates, Maildir, logs)
#   Environment: STATE_DIR (default ${TMPDIR:-/tmp}/yubin-testenv)
set -u
STATE_DIR=${STATE_DIR:-${TMPDIR:-/tmp}/yubin-testenv}
DOVE_BASE=/run/dovecot-yubin-test
PURGE=0
for arg in "$@"; do
    case $arg in
    --purge) PURGE=1 ;;
    *) echo "usage: $0 [--purge]" >&2; exit 64 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "[yubin-testenv] must run as root" >&2; exit 1; }

if [ -d "$STATE_DIR" ]; then
    exec 9>>"$STATE_DIR/start.lock"
    flock -w 300 9 || { echo "[yubin-testenv] lock timeout" >&2; exit 1; }
    rm -f "$STATE_DIR/ready"
fi

stop_pidfile() {  # pidfile: TERM the process, wait up to 5 s
    local p
    read -r p 2>/dev/null < "$1" || return 0
    [ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 0
    kill -TERM "$p"
    for _ in $(seq 50); do
        kill -0 "$p" 2>/dev/null || return 0
        sleep 0.1
    done
}

# only stop a Postfix that start.sh configured
if command -v postfix >/dev/null &&
   grep -qxF "# managed by yubin tests/server/start.sh" /etc/postfix/main.cf 2>/dev/null &&
   postfix status >/dev/null 2>&1; then
    postfix stop >/dev/null 2>&1 9>&-
    for _ in $(seq 50); do
        postfix status >/dev/null 2>&1 || break
        sleep 0.1
    done
fi
stop_pidfile "$DOVE_BASE/master.pid"
stop_pidfile "$STATE_DIR/smtp-sink.pid"
rm -f "$STATE_DIR/smtp-sink.pid"
stop_pidfile "$STATE_DIR/oauth-provider.pid"
rm -f "$STATE_DIR/oauth-provider.pid"
if [ "$PURGE" = 1 ]; then
    rm -rf "$STATE_DIR"
fi
echo "[yubin-testenv] stopped" >&2
