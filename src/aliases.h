/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * aliases.h -- the aliases file (msmtp's "aliases" key): local names
 * (recipients without a domain, such as cron's "root") replaced by
 * addresses. The syntax of /etc/aliases as msmtp reads it:
 *
 *	# comment                  ('#' to the end of the line, anywhere)
 *	root: joe@example.org, jane@example.org
 *	cron: mark@example.org
 *	default: admin@example.org (for every name not listed)
 *
 * plus sendmail's continuation lines (a line starting with a space or tab
 * continues the previous entry). Names are matched ignoring case. An entry
 * may name other entries: they are expanded in turn (as msmtp does, at
 * most 16 levels deep), each entry once per name asked for (so the work
 * stays linear however the entries fan out), at most 10000 addresses in
 * all; a name already being expanded stays as it is (as sendmail does:
 * "root: root, joe@example.org" keeps root). Targets yubin
 * cannot deliver to -- "|command", "/file", ":include:" -- are accepted in
 * the file but refused when a recipient expands to one.
 */
#ifndef YUBIN_ALIASES_H
#define YUBIN_ALIASES_H

#include <stdio.h>

struct address_list;
struct aliases;
struct error;

/*
 * Read the file at path. Errors: ERR_CONFIG "path:line: ..." for syntax
 * (no ':', no name, a name with '@', a duplicate name, a malformed
 * address), "cannot open 'path': ..." when it cannot be read.
 */
int aliases_load(struct aliases **out, const char *path, struct error *err);

/* Parse an open stream; name is used in messages ("name:line: ..."). */
int aliases_parse(struct aliases **out, FILE *f, const char *name,
    struct error *err);

void aliases_free(struct aliases *a);

/*
 * Append what the local name expands to: the entry for name, else the
 * "default" entry, else name itself. Names in an entry are expanded in
 * turn. ERR_CONFIG "aliases file 'F': alias 'x' nested more than 16
 * levels" for a chain too long, "aliases file 'F': alias 'x' expands to
 * more than 10000 addresses"; ERR_NOUSER "alias 'root' (F:3) expands to
 * '|/usr/bin/procmail', which yubin cannot deliver to (only addresses)".
 */
int aliases_expand(const struct aliases *a, const char *name,
    struct address_list *out, struct error *err);

#endif
