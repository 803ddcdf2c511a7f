/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * login.h -- yubin --login: the first OAuth 2.0 sign-in of an account, in
 * the flow its provider allows, and where the refresh token goes.
 *
 *   device    RFC 8628: prints the verification address and the code,
 *             polls the token endpoint at the interval the provider asks
 *             for (slow_down adds 5 s), until expires_in. Works over SSH
 *             and on a headless machine. Default when the account has a
 *             device endpoint (microsoft; custom with one).
 *   browser   authorization code with PKCE (RFC 7636, S256) and a loopback
 *             redirect (RFC 8252): a listener on 127.0.0.1, a random port;
 *             the browser is started ($BROWSER, else xdg-open when there
 *             is a display) and the address printed; the state parameter
 *             is checked. When the browser runs on another machine, the
 *             address it ends on may be pasted on standard input instead.
 *             Default for google, and custom without a device endpoint.
 *             Waits up to 10 minutes.
 * The device code, the authorization code, the PKCE verifier and every
 * token stay out of the terminal, logs and argv; buffers are wiped.
 */
#ifndef YUBIN_LOGIN_H
#define YUBIN_LOGIN_H

#include "tokenstore.h"

struct account;
struct error;

enum login_flow {
	LOGIN_FLOW_AUTO,	/* the provider's default (above) */
	LOGIN_FLOW_DEVICE,	/* --device */
	LOGIN_FLOW_BROWSER,	/* --browser */
};

struct login_opts {
	enum login_flow flow;
	enum token_store store;	/* --store=keyring|file; NONE: the keyring
				   when one is reachable, else the file */
};

/*
 * Sign in and store the tokens; says on stderr what to do and, at the
 * end, where the refresh token went and who can read it. ERR_CONFIG for
 * an account without oauth2_provider or a flow it cannot use; ERR_AUTH
 * when the provider or the user says no (access_denied, expired_token,
 * invalid_grant); ERR_TEMP when the provider cannot be reached.
 */
int login_run(const struct account *a, const struct login_opts *o,
    struct error *err);

#endif
