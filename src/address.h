/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * address.h -- RFC 5322 addresses: the address-list parser used for -t
 * (To/Cc/Bcc and Resent-*), single-address checks for the envelope, and IDN
 * (RFC 5890/5891 via libidn2) for servers without SMTPUTF8 (RFC 6531).
 * Pure functions: no I/O.
 */
#ifndef YUBIN_ADDRESS_H
#define YUBIN_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

struct error;

struct address_list {
	char **addr;		/* addr-specs "local@domain" (or bare "local") */
	size_t n;
	size_t cap;
};

void address_list_init(struct address_list *l);
void address_list_add(struct address_list *l, const char *addr);
void address_list_release(struct address_list *l);

/*
 * Parse a header field body (what follows "To:"; may still contain folding
 * CRLF + WSP) as an RFC 5322 address-list and append every addr-spec to out:
 * display names and comments dropped, quoted local parts kept quoted as in
 * the source, groups expanded ("undisclosed-recipients:;" adds nothing),
 * obsolete forms tolerated where unambiguous (obs-route, missing display
 * name quoting). Encoded words (RFC 2047) in display names are left alone.
 * field names the header in messages ("To"). A malformed list: ERR_DATAERR
 * "malformed address in 'To:' header: <what and where>"; out unchanged.
 */
int address_parse_list(const char *value, size_t len, const char *field,
    struct address_list *out, struct error *err);

/*
 * The same parser for one command-line argument (a recipient, -f): what
 * names it in messages ("recipient"). A CR or LF anywhere, or a malformed
 * list: ERR_DATAERR "malformed recipient 'x': <what and where>" or
 * "recipient 'x' contains a line break"; out unchanged.
 */
int address_parse_arg(const char *arg, const char *what,
    struct address_list *out, struct error *err);

/*
 * The domain of an addr-spec: what follows the last '@' outside a quoted
 * local part, or NULL for a bare local part ("root").
 */
const char *address_domain(const char *a);

#define ADDRESS_MAX 512		/* bytes of an address on a command line */

/*
 * The one rule for "this address is safe on an SMTP command line (and
 * cannot pass for an option)", applied to every address the parser,
 * the aliases, the maildomain, IDNA or a queue file hand over, right up
 * to the wire: not empty, not longer than ADDRESS_MAX, no leading '-', no
 * control character (C0, DEL), no '<' or '>', no white space outside a
 * quoted local part. ERR_DATAERR "<what> '<a>' <where> <why>" (where may
 * be NULL), e.g. "recipient '-oQ@x.org' on the command line begins with
 * '-'"; the address is shown through util_show().
 */
int address_check(const char *a, const char *what, const char *where,
    struct error *err);

/*
 * For a server without SMTPUTF8: convert the domain part to A-labels
 * (libidn2, UTS #46 non-transitional, STD3 rules: only letters, digits and
 * hyphens). *out is malloc'd. An ASCII address is copied unchanged. A
 * non-ASCII local part cannot be converted: ERR_DATAERR "address 'x' has a
 * non-ASCII local part and the server does not support SMTPUTF8". An
 * invalid IDN domain, or one whose mapping holds characters STD3 forbids
 * (a fullwidth '>' or space maps to an ASCII one; libidn2 drops them
 * under STD3 instead of failing): ERR_DATAERR naming it. A domain literal
 * ("[...]") with non-ASCII bytes has no ASCII form: ERR_DATAERR.
 */
int address_to_ascii(const char *a, char **out, struct error *err);

#endif
