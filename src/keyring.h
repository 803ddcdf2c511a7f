/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * keyring.h -- passwords in the desktop keyring (the freedesktop Secret
 * Service: GNOME Keyring, KeePassXC, KWallet...) through libsecret.
 *
 * An item is found by its attributes host (as written in the config),
 * service and user, whatever schema stored it
 * (SECRET_SCHEMA_DONT_MATCH_NAME): yubin's own (org.yubin.password),
 * msmtp's (de.marlam.msmtp.password) and
 *	secret-tool store --label=L host H service smtp user U
 * all work. As msmtp does, libgnome-keyring's old network-password items
 * (server, protocol "smtp", user) are found too.
 *
 * The Secret Service lives on the D-Bus session bus. Without one (cron, a
 * system service, ssh without a session) the keyring is skipped before
 * libsecret is called: no D-Bus autolaunch, no wait, no warning.
 *
 * Built --without-libsecret, lookups find nothing ("built without
 * libsecret") and store/forget fail (ERR_UNAVAILABLE).
 */
#ifndef YUBIN_KEYRING_H
#define YUBIN_KEYRING_H

#include <stddef.h>

#include "cred.h"

struct error;

/* The services yubin keeps items for. */
#define KEYRING_SMTP	"smtp"		/* passwords (msmtp's items too) */
#define KEYRING_OAUTH2	"oauth2"	/* OAuth 2.0 refresh tokens */

/*
 * NULL when a session bus can be reached (DBUS_SESSION_BUS_ADDRESS set,
 * or $XDG_RUNTIME_DIR/bus is a socket), else why not (a static string).
 */
const char *keyring_unavailable(void);

/*
 * 0 when store/forget can be tried (a bus exists); else -1 and
 * ERR_UNAVAILABLE saying why: no session bus, or built without libsecret.
 */
int keyring_check(struct error *err);

/*
 * CRED_FOUND: *out is a copy (free it with util_free_secret()),
 * libsecret's string is wiped and freed with secret_password_free().
 * CRED_NONE: not found or the keyring cannot be used; why (size bytes)
 * says which, and libsecret's warnings go to the -v trace. Never
 * CRED_ERROR: a lookup never fails the send by itself.
 */
enum cred keyring_lookup(const char *host, const char *service,
    const char *user, char **out, char *why, size_t size);

/*
 * Store password for host/service/user with label "yubin: user@host"
 * (KEYRING_SMTP) or "yubin SERVICE: user@host", in the default
 * collection, after removing every item for host/service/user (yubin's
 * or msmtp's: one item is left, found by both). ERR_UNAVAILABLE when
 * there is no bus, no Secret Service, or libsecret says no.
 */
int keyring_store(const char *host, const char *service, const char *user,
    const char *password, struct error *err);

/*
 * Remove every item for host/service/user (yubin's, msmtp's,
 * secret-tool's). CRED_FOUND: something was removed; CRED_NONE: nothing
 * was there; CRED_ERROR: ERR_UNAVAILABLE as for keyring_store().
 */
enum cred keyring_forget(const char *host, const char *service,
    const char *user, struct error *err);

#endif
