/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * dlload.h -- a library loaded with dlopen() on first use (http.c: libcurl,
 * json.c: json-c), so that a send that does not need it never maps it.
 */
#ifndef YUBIN_DLLOAD_H
#define YUBIN_DLLOAD_H

#include <stdbool.h>
#include <stddef.h>

/* One function a library loaded with dl_load() must have. */
struct dl_sym {
	const char *name;
	void **slot;		/* where its address goes: (void **)&fn */
};

/* A library loaded on first use (keyring.c, http.c, json.c). */
struct dl_lib {
	const char *const *sonames;	/* tried in turn; NULL-terminated */
	const struct dl_sym *syms;
	size_t nsyms;
	/* after the first successful load: NULL, or why it is unusable */
	const char *(*init)(void);
	bool loaded;
	char failed[256];		/* why it could not be loaded */
};

/*
 * Load l once: the first of its sonames that dlopen() finds, RTLD_LOCAL,
 * every symbol of syms, then l->init. NULL when the library is there, else
 * why not: "cannot load libjson-c.so.5: ..." or "libjson-c.so.5 has no
 * json_tokener_parse" (the same answer on every later call). The handle
 * is never closed (some libraries cannot be unloaded).
 */
const char *dl_load(struct dl_lib *l);

#endif
