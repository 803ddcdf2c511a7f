#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# t0910-install.sh -- what "make install" and "make install-sendmail" put
# where (DESTDIR, a prefix of the test's own); yubin called as mailq,
# newaliases and sendmail; bash and zsh completion (zsh through a real
# interactive zsh on a pty: tests/zsh-complete.zsh); the "message queued" note that
# names the command enabling the timer when nothing would run yubin -q;
# a new ./configure (a new Makefile) rebuilds what compiles its paths in.
# The case bodies are strings that test_case (lib.sh) evaluates.
# shellcheck disable=SC2016,SC2034,SC2154
. "$(dirname "$0")/lib.sh"

need_yubin
need_cmd make sed bash

# make_in_tree ARGS...: make in the build tree, not as part of the make
# that runs this test (its jobserver and flags stay out)
make_in_tree() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
        timeout 120 make -s -C "$abs_top_builddir" "$@"
}

# mk_var NAME: a directory variable of the build tree's Makefile, for
# prefix=/opt/yb
mk_var() {
    sed -n "s/^$1 = //p" "$abs_top_builddir/Makefile" | head -n 1 |
        sed -e 's|${datadir}|/opt/yb/share|' -e 's|${prefix}|/opt/yb|'
}

# cli_long_options: the long options cli.c knows (its two tables), sorted
cli_long_options() {
    sed -n '/^static const struct cli_long/,/^};/p; /^} cli_keyopts\[\] = {/,/^};/p' \
        "$abs_top_srcdir/src/cli.c" |
        sed -n 's/^\t{ "\([a-z0-9-]*\)",.*/\1/p' | sort -u
}

test_case 'make install DESTDIR=... prefix=/opt/yb: the files' <<'CASE'
D=$SCRATCH/dest
make_in_tree install DESTDIR="$D" prefix=/opt/yb > "$SCRATCH/install.log" 2>&1
is "$?" 0 "make install: exit 0"
want="/opt/yb/bin/yubin
$(mk_var bashcompletiondir)/yubin
/opt/yb/share/man/man1/yubin.1
/opt/yb/share/man/man5/yubinrc.5
$(mk_var zshcompletiondir)/_yubin"
unitdir=$(mk_var systemduserunitdir)
if [ "$unitdir" != no ]; then
    want="$want
$unitdir/yubin-flush.service
$unitdir/yubin-flush.timer"
fi
is "$(cd "$D" && find . -type f | sed 's/^\.//' | sort)" "$(sort <<<"$want")" \
    "exactly these files"
if [ "$unitdir" != no ]; then
    is "$(grep '^ExecStart=' "$D$unitdir/yubin-flush.service")" \
        "ExecStart=/opt/yb/bin/yubin -q" "the unit runs the installed yubin"
    cmp -s "$D$unitdir/yubin-flush.timer" "$abs_top_srcdir/contrib/yubin-flush.timer"
    is "$?" 0 "the timer as shipped"
else
    skip "unit" "no systemd user unit directory (pkg-config systemd)"
fi
is "$(stat -c %a "$D/opt/yb/bin/yubin")" 755 "the program: 755"
make_in_tree uninstall DESTDIR="$D" prefix=/opt/yb > "$SCRATCH/uninstall.log" 2>&1
is "$?" 0 "make uninstall: exit 0"
is "$(cd "$D" && find . -type f | wc -l)" 0 "make uninstall leaves no file"
CASE

test_case 'make install-sendmail: sendmail, mailq, newaliases' <<'CASE'
D=$SCRATCH/dest
make_in_tree install-sendmail DESTDIR="$D" prefix=/opt/yb > "$SCRATCH/is.log" 2>&1
is "$?" 0 "exit 0"
is "$(readlink "$D/opt/yb/sbin/sendmail")" /opt/yb/bin/yubin "sbin/sendmail"
is "$(readlink "$D/opt/yb/bin/mailq")" /opt/yb/bin/yubin "bin/mailq"
is "$(readlink "$D/opt/yb/bin/newaliases")" /opt/yb/bin/yubin "bin/newaliases"
make_in_tree uninstall-sendmail DESTDIR="$D" prefix=/opt/yb > /dev/null 2>&1
is "$(find "$D" -type l | wc -l)" 0 "uninstall-sendmail removes them"
CASE

test_case 'called as mailq, newaliases, sendmail' <<'CASE'
mkdir -p "$SCRATCH/bin"
for n in mailq newaliases sendmail; do ln -s "$YUBIN" "$SCRATCH/bin/$n"; done
"$SCRATCH/bin/mailq" > "$SCRATCH/out" 2>&1
is "$?" 0 "mailq: exit 0"
is "$(cat "$SCRATCH/out")" "queue is empty" "mailq lists the queue (-bp)"
"$SCRATCH/bin/mailq" --json > "$SCRATCH/out" 2>&1
is "$?" 0 "mailq --json: exit 0"
"$SCRATCH/bin/newaliases" > "$SCRATCH/out" 2>&1
is "$?" 0 "newaliases: exit 0"
is "$(cat "$SCRATCH/out")" "yubin: nothing to do: yubin keeps no aliases database (the 'aliases' key names a file read as it is)" \
    "newaliases says it has nothing to do"
"$YUBIN" -bi > "$SCRATCH/out" 2>&1
is "$?" 0 "-bi: the same"
"$SCRATCH/bin/sendmail" -bp > "$SCRATCH/out" 2>&1
is "$(cat "$SCRATCH/out")" "queue is empty" "sendmail -bp"
CASE

test_case 'bash completion: options and account names' <<'CASE'
mkdir -p "$SCRATCH/home"
printf 'account work\nhost h\naccount home : work\naccount default : work\n' \
    > "$SCRATCH/home/.msmtprc"
complete_words() {  # WORDS...: what _yubin offers for the last word
    HOME="$SCRATCH/home" XDG_CONFIG_HOME="$SCRATCH/home/.config" bash -c '
        compopt() { :; }
        . "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        _yubin; printf "%s\n" "${COMPREPLY[@]}" | sort' \
        _ "$abs_top_srcdir/contrib/yubin.bash-completion" "$@"
}
is "$(complete_words yubin --server)" "--serverinfo" "--server -> --serverinfo"
is "$(complete_words yubin --tls-t)" "--tls-trust-file=" "--tls-t"
is "$(complete_words yubin -a "")" "default
home
work" "-a: the accounts of ~/.msmtprc"
is "$(complete_words yubin -R "")" "full
hdrs
headers
off" "-R values"
is "$(complete_words yubin -- | sed 's/^--//; s/=$//' | sort -u)" \
    "$(cli_long_options)" "--: every long option of cli.c"
CASE

test_case 'zsh completion (installed): loads; options, values, accounts' <<'CASE'
need_cmd zsh
D=$SCRATCH/dest
make_in_tree install DESTDIR="$D" prefix=/opt/yb > "$SCRATCH/install.log" 2>&1 ||
    { diag_file "$SCRATCH/install.log"; return 1; }
dir=$D$(mk_var zshcompletiondir)
mkdir -p "$SCRATCH/home"
printf 'account work\nhost h\naccount home : work\naccount default : work\n' \
    > "$SCRATCH/home/.msmtprc"
zsh_complete() {  # LINE: the matches zsh offers for TAB at its end, sorted
    HOME=$SCRATCH/home XDG_CONFIG_HOME=$SCRATCH/home/.config \
        timeout 30 zsh -f "$TESTS_DIR/zsh-complete.zsh" "$dir" \
        "$SCRATCH/zsh.out" "$1" > /dev/null 2>&1 || echo "zsh failed: $?"
    sort -u "$SCRATCH/zsh.out"
}
is "$(zsh_complete 'yubin --acc')" "--account" "--acc -> --account"
is "$(zsh_complete 'yubin --conf')" "--configure" "--conf -> --configure"
is "$(zsh_complete 'yubin -a ')" "default
home
work" "-a: the accounts of ~/.msmtprc"
is "$(zsh_complete 'yubin --account=h')" "home" "--account=h: home"
is "$(zsh_complete 'yubin -R ')" "full
hdrs
headers
off" "-R values"
is "$(zsh_complete 'yubin --protocol=')" "lmtp
smtp" "--protocol= values"
is "$(zsh_complete 'yubin --' | grep '^--' | sed 's/^--//; s/=$//' | sort -u)" \
    "$(cli_long_options)" "--: every long option of cli.c"
rm -f "$dir/_yubin"
is "$(zsh_complete 'yubin --acc')" "" "without the installed file: nothing (the check can fail)"
CASE

# queued_note ERRFILE: the note line, or nothing
queued_note() {
    grep "nothing runs 'yubin -q'" "$1"
}

test_case 'queued, nothing sends it: the note names the command' <<'CASE'
closed_port
write_config "$SCRATCH/rc" "host 127.0.0.1" "port $CLOSED_PORT" "tls off" \
    "from a@example.org"
sed -i 's/^queue off$/queue on-failure/' "$SCRATCH/rc"
printf 'Subject: x\n\nx\n' > "$SCRATCH/m"
mkdir -p "$SCRATCH/home" "$SCRATCH/bin"
run() {
    env -i HOME="$SCRATCH/home" PATH="$SCRATCH/bin:/usr/bin:/bin" \
        XDG_STATE_HOME="$XDG_STATE_HOME" XDG_CONFIG_HOME="$XDG_CONFIG_HOME" \
        timeout 30 "$YUBIN" -C "$SCRATCH/rc" r@example.org \
        < "$SCRATCH/m" > /dev/null 2> "$SCRATCH/err"
}
printf '#!/bin/sh\nexit 1\n' > "$SCRATCH/bin/crontab"
chmod 755 "$SCRATCH/bin/crontab"
run
is "$?" 0 "queued: exit 0"
is "$(queued_note "$SCRATCH/err")" \
    "yubin: nothing runs 'yubin -q' to send it later (no yubin-flush.timer enabled, no crontab line); enable the timer: systemctl --user enable --now yubin-flush.timer" \
    "no timer, no crontab: the note"
mkdir -p "$XDG_CONFIG_HOME/systemd/user/timers.target.wants"
ln -s /dev/null "$XDG_CONFIG_HOME/systemd/user/timers.target.wants/yubin-flush.timer"
run
is "$(queued_note "$SCRATCH/err")" "" "the timer enabled: no note"
like "$(cat "$SCRATCH/err")" "^yubin: message queued as " "still: queued as ID"
rm "$XDG_CONFIG_HOME/systemd/user/timers.target.wants/yubin-flush.timer"
printf '#!/bin/sh\necho "# */5 * * * * yubin -q"\n' > "$SCRATCH/bin/crontab"
run
like "$(queued_note "$SCRATCH/err")" "enable the timer" "a commented-out crontab line: the note"
printf '#!/bin/sh\necho "*/5 * * * * /usr/bin/yubin -q"\n' > "$SCRATCH/bin/crontab"
run
is "$(queued_note "$SCRATCH/err")" "" "a crontab line with yubin -q: no note"
CASE

test_case 'a new ./configure (new Makefile) rebuilds what compiles paths in' <<'CASE'
# -n: nothing is built here; -o autoconfig.h: its no-op rule (stamp-h1
# newer, the header unchanged) does not count as a change
compiles() {  # ARGS...: the compile command lines make would run
    make_in_tree -n -o autoconfig.h "$@" | grep -c -- ' -c -o '
}
is "$(compiles src/config.o)" 0 "src/config.o up to date"
is "$(compiles -W Makefile src/config.o)" 1 \
    "a newer Makefile (./configure --sysconfdir=...): src/config.o is rebuilt"
is "$(compiles -W Makefile tests/unit/test-config.o)" 1 \
    "and tests/unit/test-config.o"
is "$(compiles -W Makefile src/smtp.o)" 0 "not the others"
CASE

done_testing
