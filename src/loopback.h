/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * loopback.h -- the loopback redirect of a browser sign-in (RFC 8252 7.3):
 * a listener on 127.0.0.1 (random port) that takes the browser's
 * "GET /?code=...&state=..." -- or the same address pasted on standard
 * input, when the browser runs on another machine.
 *
 * Anything on the machine can connect to the listener: every connection
 * is non-blocking, watched in the same poll() as the listener and stdin,
 * gets LOOPBACK_CONN_MS to send its request line (nothing else is read)
 * and at most LOOPBACK_CONNS are open at once, so no client can stall the
 * sign-in. An answer whose state is not this sign-in's is ignored with a
 * warning (HTTP 400 to the browser); the code never leaves this module
 * except to the caller.
 */
#ifndef YUBIN_LOOPBACK_H
#define YUBIN_LOOPBACK_H

#include <stdbool.h>

struct error;
struct loopback;

#define LOOPBACK_CONNS		8	/* browser connections at once */
#define LOOPBACK_CONN_MS	2000	/* for one to send its request line */
#define LOOPBACK_LINE_MAX	8192	/* bytes of a request line / paste */

/*
 * Listen on 127.0.0.1, a port the kernel picks. The redirect address is
 * http://127.0.0.1:PORT/, or http://localhost:PORT/ with localhost_name
 * (what Microsoft registers for desktop applications). ERR_OSERR.
 */
int loopback_open(struct loopback **out, bool localhost_name,
    struct error *err);

const char *loopback_redirect(const struct loopback *l);

/*
 * Wait up to wait_ms for the answer with this state: 0 and *code (free
 * it with util_free_secret()); ERR_AUTH with the provider's error and its
 * description when the sign-in failed, or when nothing came in time.
 */
int loopback_wait(struct loopback *l, const char *state, int wait_ms,
    char **code, struct error *err);

/* Close the listener and every connection; NULL is fine. */
void loopback_close(struct loopback *l);

#endif
