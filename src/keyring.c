/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * keyring.c -- see keyring.h. libsecret is not linked but loaded with
 * dlopen() the first time the keyring is needed: a send whose password
 * comes from the config never maps libsecret, GIO, GObject and GLib (some
 * 3 MB of resident memory, and their constructors), and a yubin built with
 * libsecret still runs where it is not installed. <libsecret/secret.h>
 * gives the types and constants only; every call goes through lib below.
 *
 * Before that, a session bus must exist: without one GLib would try to
 * autolaunch a bus with dbus-launch (which needs X11) and print a warning.
 * GLib's own messages are routed to the -v trace.
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef HAVE_LIBSECRET
#include <libsecret/secret.h>
#endif

#include "error.h"
#include "keyring.h"
#include "log.h"
#include "dlload.h"
#include "util.h"


#ifdef HAVE_LIBSECRET

#ifndef LIBSECRET_SONAME
#define LIBSECRET_SONAME "libsecret-1.so.0"
#endif

/* The functions of libsecret (and of GLib, its dependency) yubin calls. */
static struct {
	gchar *(*lookup)(const SecretSchema *, GCancellable *, GError **,
	    ...);
	gboolean (*store)(const SecretSchema *, const gchar *, const gchar *,
	    const gchar *, GCancellable *, GError **, ...);
	gboolean (*clear)(const SecretSchema *, GCancellable *, GError **,
	    ...);
	void (*password_free)(gchar *);
	void (*disconnect)(void);
	const SecretSchema *(*get_schema)(SecretSchemaType);
	void (*error_free)(GError *);
	void (*set_writer)(GLogWriterFunc, gpointer, GDestroyNotify);
} lib;

const char *
keyring_unavailable(void)
{
	const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
	const char *dir = getenv("XDG_RUNTIME_DIR");
	char path[4096];
	struct stat st;
	int n;

	if (addr != NULL && *addr != '\0')
		return NULL;
	if (dir != NULL && *dir == '/') {
		n = snprintf(path, sizeof(path), "%s/bus", dir);
		if (n > 0 && (size_t)n < sizeof(path) &&
		    stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			return NULL;
	}
	return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set "
	    "and there is no $XDG_RUNTIME_DIR/bus)";
}

/*
 * yubin's schema. DONT_MATCH_NAME: lookups and removals ignore the schema
 * name, so msmtp's and secret-tool's items match as well.
 */
static const SecretSchema keyring_schema = {
	.name = "org.yubin.password",
	.flags = SECRET_SCHEMA_DONT_MATCH_NAME,
	.attributes = {
		{ "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "service", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ NULL, 0 },
	},
};

/*
 * GLib's messages (libsecret, GDBus) go to the -v trace only, debug
 * messages to -v -v.
 */
static GLogWriterOutput
keyring_log(GLogLevelFlags level, const GLogField *fields, gsize n,
    gpointer data)
{
	if ((level & G_LOG_LEVEL_DEBUG) && log_get_verbose() < 2)
		return G_LOG_WRITER_HANDLED;
	for (gsize i = 0; i < n; i++) {
		const char *v = fields[i].value;
		gssize len = fields[i].length;

		if (strcmp(fields[i].key, "MESSAGE") != 0 || v == NULL)
			continue;
		log_verbose("keyring: %.*s", (int)(len < 0 ? (gssize)strlen(v) :
		    len), v);
	}
	return G_LOG_WRITER_HANDLED;
}

#define SYM(field, name) { name, (void **)&lib.field }
static const struct dl_sym syms[] = {
	SYM(lookup, "secret_password_lookup_sync"),
	SYM(store, "secret_password_store_sync"),
	SYM(clear, "secret_password_clear_sync"),
	SYM(password_free, "secret_password_free"),
	SYM(disconnect, "secret_service_disconnect"),
	SYM(get_schema, "secret_get_schema"),
	SYM(error_free, "g_error_free"),
	SYM(set_writer, "g_log_set_writer_func"),
};
#undef SYM

static const char *
keyring_init(void)
{
	lib.set_writer(keyring_log, NULL, NULL);
	return NULL;
}

static const char *const sonames[] = { LIBSECRET_SONAME, NULL };
static struct dl_lib libsecret = { sonames, syms, ARRAY_SIZE(syms),
    keyring_init, false, "" };

/* NULL when the keyring can be asked, else why not. */
static const char *
keyring_ready(void)
{
	const char *why = keyring_unavailable();

	return why != NULL ? why : dl_load(&libsecret);
}

static int
keyring_fail(GError *gerr, const char *what, struct error *err)
{
	error_set(err, ERR_UNAVAILABLE, "%s: %s", what,
	    gerr != NULL ? gerr->message : "libsecret gave no reason");
	if (gerr != NULL)
		lib.error_free(gerr);
	return -1;
}

int
keyring_check(struct error *err)
{
	const char *why = keyring_ready();

	if (why != NULL)
		return error_set(err, ERR_UNAVAILABLE, "cannot reach the "
		    "keyring: %s; run this in your desktop session", why);
	return 0;
}

/*
 * yubin's / msmtp's / secret-tool's item, then (for passwords)
 * libgnome-keyring's.
 */
static gchar *
lookup_any(const char *host, const char *service, const char *user,
    GError **gerr)
{
	gchar *pw;

	pw = lib.lookup(&keyring_schema, NULL, gerr, "host", host,
	    "service", service, "user", user, NULL);
	if (pw == NULL && *gerr == NULL &&
	    strcmp(service, KEYRING_SMTP) == 0)
		pw = lib.lookup(lib.get_schema(
		    SECRET_SCHEMA_TYPE_COMPAT_NETWORK), NULL, gerr,
		    "user", user, "protocol", service, "server", host, NULL);
	return pw;
}

enum cred
keyring_lookup(const char *host, const char *service, const char *user,
    char **out, char *why, size_t size)
{
	const char *no = keyring_ready();
	GError *gerr = NULL;
	gchar *pw;

	*out = NULL;
	if (no != NULL) {
		snprintf(why, size, "%s", no);
		log_verbose("keyring skipped: %s", no);
		return CRED_NONE;
	}
	pw = lookup_any(host, service, user, &gerr);
	lib.disconnect();	/* drop libsecret's singleton */
	if (gerr != NULL) {
		snprintf(why, size, "%s", gerr->message);
		log_verbose("keyring: %s", gerr->message);
		lib.error_free(gerr);
		return CRED_NONE;
	}
	if (pw == NULL) {
		snprintf(why, size, "no item with host '%s' service '%s' "
		    "user '%s' (or it is locked)", host, service, user);
		return CRED_NONE;
	}
	*out = xstrdup(pw);
	lib.password_free(pw);
	return CRED_FOUND;
}

/* Remove every matching item; *removed tells whether there was one. */
static int
clear_all(const char *host, const char *service, const char *user,
    bool *removed, GError **gerr)
{
	gboolean r;

	r = lib.clear(&keyring_schema, NULL, gerr, "host", host,
	    "service", service, "user", user, NULL);
	*removed = r;
	if (*gerr != NULL || strcmp(service, KEYRING_SMTP) != 0)
		return *gerr != NULL ? -1 : 0;
	r = lib.clear(lib.get_schema(SECRET_SCHEMA_TYPE_COMPAT_NETWORK), NULL,
	    gerr, "user", user, "protocol", service, "server", host, NULL);
	*removed = *removed || r;
	return *gerr != NULL ? -1 : 0;
}

int
keyring_store(const char *host, const char *service, const char *user,
    const char *password, struct error *err)
{
	GError *gerr = NULL;
	bool removed;
	char *label;
	gboolean ok;

	if (keyring_check(err) < 0)
		return -1;
	if (clear_all(host, service, user, &removed, &gerr) < 0) {
		lib.disconnect();
		return keyring_fail(gerr, "cannot replace the keyring item",
		    err);
	}
	if (strcmp(service, KEYRING_SMTP) == 0)
		label = xasprintf("yubin: %s@%s", user, host);
	else
		label = xasprintf("yubin %s: %s@%s", service, user, host);
	ok = lib.store(&keyring_schema, SECRET_COLLECTION_DEFAULT, label,
	    password, NULL, &gerr, "host", host, "service", service,
	    "user", user, NULL);
	free(label);
	lib.disconnect();
	if (!ok)
		return keyring_fail(gerr, "cannot store the secret in the "
		    "keyring", err);
	return 0;
}

enum cred
keyring_forget(const char *host, const char *service, const char *user,
    struct error *err)
{
	GError *gerr = NULL;
	bool removed;
	int r;

	if (keyring_check(err) < 0)
		return CRED_ERROR;
	r = clear_all(host, service, user, &removed, &gerr);
	lib.disconnect();
	if (r < 0) {
		keyring_fail(gerr, "cannot remove the keyring item", err);
		return CRED_ERROR;
	}
	return removed ? CRED_FOUND : CRED_NONE;
}

#else /* !HAVE_LIBSECRET */

#define KEYRING_NONE "yubin was built without libsecret"

const char *
keyring_unavailable(void)
{
	return KEYRING_NONE;
}

int
keyring_check(struct error *err)
{
	return error_set(err, ERR_UNAVAILABLE, "cannot use the keyring: %s; "
	    "use 'passwordeval' instead", KEYRING_NONE);
}

enum cred
keyring_lookup(const char *host, const char *service, const char *user,
    char **out, char *why, size_t size)
{
	*out = NULL;
	snprintf(why, size, "%s", KEYRING_NONE);
	return CRED_NONE;
}

int
keyring_store(const char *host, const char *service, const char *user,
    const char *password, struct error *err)
{
	return keyring_check(err);
}

enum cred
keyring_forget(const char *host, const char *service, const char *user,
    struct error *err)
{
	(void)keyring_check(err);
	return CRED_ERROR;
}

#endif /* HAVE_LIBSECRET */
