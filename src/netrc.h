/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * netrc.h -- a password from a netrc file ($NETRC, else ~/.netrc), the
 * format of ftp(1) and curl:
 *
 *	machine HOST login USER password PW [account ACCT]
 *	default login USER password PW
 *	macdef NAME          (a macro: its body runs to the next empty
 *	                      line and is skipped)
 *
 * Tokens are separated by blanks and newlines; a token may be "quoted",
 * with \" \\ \n \r \t escapes inside (curl). Keywords may come in any order
 * inside an entry; unknown keywords are ignored.
 *
 * Matching: an entry matches when its machine equals the host (ASCII case
 * does not matter) and its login equals the user (exactly); an entry
 * without login matches any user (ftp). The first matching machine entry
 * wins; a matching "default" entry is used only when no machine entry
 * matched. An entry without a password does not match.
 *
 * Permissions: like ftp(1), a file that can be read by other users (mode &
 * 077) is refused when it holds the matching password (ERR_CONFIG, the
 * message says "chmod 600 FILE").
 */
#ifndef YUBIN_NETRC_H
#define YUBIN_NETRC_H

#include <stddef.h>

#include "cred.h"

struct error;

/*
 * The file to read: $NETRC when set and not empty, else $HOME/.netrc (the
 * passwd entry's home when HOME is unset). Malloc'd; NULL when no home
 * directory is known.
 */
char *netrc_path(void);

/*
 * Search the text (len bytes, NUL not needed); name is used in messages
 * ("name:line: ..."). CRED_FOUND: *password is malloc'd (free it with
 * util_free_secret()); CRED_NONE: no matching entry; CRED_ERROR: syntax
 * error (ERR_CONFIG: unterminated quoted string, keyword without its
 * value).
 */
enum cred netrc_search(const char *text, size_t len, const char *name,
    const char *host, const char *user, char **password, struct error *err);

/*
 * Open path and search it. CRED_NONE also when the file does not exist.
 * CRED_ERROR when it cannot be read (ERR_CONFIG), is not a regular file,
 * is larger than 1 MiB, has a syntax error, or can be read by others and
 * holds the password.
 */
enum cred netrc_lookup(const char *path, const char *host, const char *user,
    char **password, struct error *err);

#endif
