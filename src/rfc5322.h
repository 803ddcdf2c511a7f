/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * rfc5322.h -- the character classes of RFC 5322 that more than one module
 * reads: WSP (folding, field continuation lines) and atext (atoms of an
 * address, a display name that needs no quotes). Header-only, no
 * dependencies, no state.
 */
#ifndef YUBIN_RFC5322_H
#define YUBIN_RFC5322_H

#include <stdbool.h>

/* WSP (RFC 5234 B.1): space or horizontal tab. */
static inline bool
rfc5322_is_wsp(unsigned char ch)
{
	return ch == ' ' || ch == '\t';
}

/*
 * atext (RFC 5322 3.2.3): letters, digits and !#$%&'*+-/=?^_`{|}~, and
 * every byte >= 0x80 (UTF-8, RFC 6532 3.2).
 */
static inline bool
rfc5322_is_atext(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch >= 0x80)
		return true;
	switch (ch) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '/': case '=': case '?':
	case '^': case '_': case '`': case '{': case '|': case '}':
	case '~':
		return true;
	default:
		return false;
	}
}

#endif
