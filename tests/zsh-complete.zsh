#!/usr/bin/zsh -f
# SPDX-License-Identifier: GPL-3.0-or-later
# zsh-complete.zsh DIR OUT LINE: the matches zsh offers when TAB is pressed
# at the end of the command line LINE, in a real interactive zsh (-f) on a
# pseudo-terminal (zsh/zpty) with compinit and DIR first in $fpath (where
# _yubin was installed); each match that a completion function adds
# (compadd) is written to OUT, one a line. Exit 99 when zpty cannot run.
# Bounded by the caller's timeout.
zmodload zsh/zpty || exit 99
dir=$1 out=$2 line=$3
: > $out
zpty -b z zsh -f -i || exit 99
zpty -w z "PS1= PS2= RPS1=; unsetopt zle_bracketed_paste 2>/dev/null"
zpty -w z "fpath=(${(q)dir} \$fpath); autoload -Uz compinit; compinit -u -D"
# compadd recording what it adds (not the queries: -O -A -D)
zpty -w z "compadd() {
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd \"\$@\"; return; fi
  local -a __hits; builtin compadd -A __hits \"\$@\"
  (( \$#__hits )) && print -rl -- \$__hits >> ${(q)out}
  builtin compadd \"\$@\"
}"
# the markers are computed, so the echo of the typed line never matches
zpty -w z "print -r READY-\$((0+1))"
zpty -r -m z junk '*READY-1*' || exit 99
# TAB, then ^U (kill the line) and a marker: zle reads them in turn
zpty -w -n z "$line"$'\t\025'
zpty -w z "print -r DONE-\$((1+1))"
zpty -r -m z junk '*DONE-2*' || exit 99
zpty -d z
