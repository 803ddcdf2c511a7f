/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cred.h -- what a source of a secret answers: the password sources of
 * password.c (config, passwordeval, keyring, netrc, prompt), the lookups
 * under them (keyring.h, netrc.h, prompt.h), and removing a secret
 * (keyring_forget(), tokenstore_remove()). Plain data, no dependencies.
 * The values keep the -1 of failure.
 */
#ifndef YUBIN_CRED_H
#define YUBIN_CRED_H

enum cred {
	CRED_ERROR = -1,	/* failed, err says why: stop looking */
	CRED_NONE = 0,		/* nothing there (a note says why): go on */
	CRED_FOUND = 1,		/* *out holds it (or, removing: it was
				   there and is gone) */
};

#endif
