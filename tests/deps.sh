#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/deps.sh -- the Debian 12 packages yubin needs to build and to run
# every test: the one list, used by make check (test), .ci/run (all) and
# README.md (build).
#
#   tests/deps.sh [GROUP...] [--install | --ensure | --check | --missing |
#                  --list | --hint]
#
# GROUP: build (compilers, libraries), test (what the tests run: Postfix,
# Dovecot, certtool, aiosmtpd, the keyring, real mail clients ...), fuzz
# (clang and libFuzzer for --enable-fuzzing), all; default: build test.
#   --install  install what is missing (root; apt-get; exit 1 if that fails)
#   --ensure   what make check runs: as root, --install (unless
#              YUBIN_NO_INSTALL=1); otherwise say what is missing and the
#              command that installs it; always exit 0, so the tests run
#              and skip what they cannot do, with that reason
#   --check    exit 1 (and say what is missing) unless all are installed
#   --missing  print the missing packages, one line
#   --list     print the packages, one line
#   --hint     print how to install the missing ones (for skip messages)
#
# Fast when everything is there (one dpkg-query).  Installing: postfix
# first, with debconf's "No configuration" (installed after bsd-mailx, apt
# would pull in exim4), with a policy-rc.d that keeps every daemon from
# starting (it would listen on 0.0.0.0; tests/server/start.sh starts its
# own on loopback), --no-install-recommends, apt-get update only when a
# package cannot be found, and under flock(1) so that two make check runs
# never run apt-get at the same time.  YUBIN_DEPS_ADMINDIR: a dpkg database
# to check against instead of the system's (to try this script out).
set -u

PKGS_BUILD="autoconf automake libtool pkg-config make gcc
    libgnutls28-dev libgsasl-dev libsecret-1-dev libidn2-dev libglib2.0-dev
    libcurl4-gnutls-dev libjson-c-dev"
# postfix: first, see above
PKGS_TEST="postfix
    gnutls-bin dovecot-core dovecot-lmtpd openssl msmtp swaks
    libnet-ssleay-perl libio-socket-ssl-perl libauthen-sasl-perl
    libio-socket-inet6-perl
    python3 python3-aiosmtpd ca-certificates
    dbus dbus-x11 gnome-keyring libsecret-tools
    mutt bsd-mailx s-nail git git-email libmailtools-perl
    valgrind time strace curl dante-server socat zsh"
PKGS_FUZZ="clang libclang-rt-dev"

LOCK=${YUBIN_DEPS_LOCK:-/run/lock/yubin-deps.lock}
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

groups=()
action=--ensure
for arg in "$@"; do
    case $arg in
    build | test | fuzz) groups+=("$arg") ;;
    all) groups+=(build test fuzz) ;;
    --install | --ensure | --check | --missing | --list | --hint)
        action=$arg ;;
    *) echo "usage: $0 [build|test|fuzz|all]... [--install|--ensure|--check|--missing|--list|--hint]" >&2
       exit 64 ;;
    esac
done
[ "${#groups[@]}" -gt 0 ] || groups=(build test)

pkgs=()
for g in "${groups[@]}"; do
    case $g in
    build) pkgs+=($PKGS_BUILD) ;;
    test) pkgs+=($PKGS_TEST) ;;
    fuzz) pkgs+=($PKGS_FUZZ) ;;
    esac
done

# missing: the packages of $pkgs that dpkg does not have installed
missing() {
    local have
    have=$(dpkg-query ${YUBIN_DEPS_ADMINDIR:+--admindir="$YUBIN_DEPS_ADMINDIR"} \
        -W -f='${Package} ${db:Status-Status}\n' "${pkgs[@]}" 2>/dev/null |
        awk '$2 == "installed" { print $1 }')
    local p out=()
    for p in "${pkgs[@]}"; do
        grep -qxF "$p" <<< "$have" || out+=("$p")
    done
    echo "${out[*]}"
}

# the command that installs $1 (a list), postfix first
install_line() {
    local rest=() p first=""
    for p in $1; do
        if [ "$p" = postfix ]; then first=postfix; else rest+=("$p"); fi
    done
    local apt="sudo apt-get install -y --no-install-recommends"
    if [ -n "$first" ] && [ "${#rest[@]}" -gt 0 ]; then
        echo "$apt postfix && $apt ${rest[*]}"
    elif [ -n "$first" ]; then
        echo "$apt postfix"
    else
        echo "$apt ${rest[*]}"
    fi
}

hint() {
    local m=$1
    echo "not installed: $m; as root, make check installs them (or run" \
        "'sudo $self ${groups[*]} --install', or: $(install_line "$m"))"
}

apt_install() {
    local apt=(apt-get -o DPkg::Lock::Timeout=600 -y -q
               install --no-install-recommends)
    "${apt[@]}" "$@" < /dev/null && return 0
    echo "deps.sh: apt-get install failed; apt-get update, then again" >&2
    apt-get -o DPkg::Lock::Timeout=600 -q update < /dev/null &&
        "${apt[@]}" "$@" < /dev/null
}

do_install() {
    local m=$1 rest=() p made_policy=0 rc=0
    export DEBIAN_FRONTEND=noninteractive
    for p in $m; do
        [ "$p" = postfix ] || rest+=("$p")
    done
    echo "deps.sh: installing $m" >&2
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d &&
            chmod 755 /usr/sbin/policy-rc.d && made_policy=1
    fi
    if [[ " $m " == *" postfix "* ]]; then
        echo "postfix postfix/main_mailer_type select No configuration" |
            debconf-set-selections
        apt_install postfix || rc=1
    fi
    if [ "$rc" = 0 ] && [ "${#rest[@]}" -gt 0 ]; then
        apt_install "${rest[@]}" || rc=1
    fi
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    return "$rc"
}

# locked_install: install what is missing, one caller at a time
locked_install() {
    local m
    exec 9> "$LOCK" || { echo "deps.sh: cannot open $LOCK" >&2; return 1; }
    if ! flock -n 9; then
        echo "deps.sh: waiting for another installation ($LOCK)" >&2
        flock 9
    fi
    m=$(missing)        # again: another caller may have installed them
    if [ -n "$m" ] && ! do_install "$m"; then
        echo "deps.sh: could not install: $(missing)" >&2
        return 1
    fi
    return 0
}

m=$(missing)
case $action in
--list) echo "${pkgs[*]}" ;;
--missing) echo "$m" ;;
--hint) [ -z "$m" ] || hint "$m" ;;
--check)
    [ -z "$m" ] && exit 0
    echo "deps.sh: $(hint "$m")" >&2
    exit 1 ;;
--install)
    [ -z "$m" ] && exit 0
    if [ "$(id -u)" != 0 ]; then
        echo "deps.sh: not root; $(hint "$m")" >&2
        exit 1
    fi
    locked_install ;;
--ensure)
    [ -z "$m" ] && exit 0
    if [ "$(id -u)" = 0 ] && [ "${YUBIN_NO_INSTALL:-0}" != 1 ]; then
        locked_install || echo "deps.sh: the tests that need them will" \
            "skip (or fail with YUBIN_NO_SKIP=1)" >&2
    else
        echo "deps.sh: $(hint "$m"); the tests that need them will skip" \
            "(or fail with YUBIN_NO_SKIP=1)" >&2
    fi
    exit 0 ;;
esac
