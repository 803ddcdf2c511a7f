/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * dlload.c -- see dlload.h.
 */
#include "autoconfig.h"

#include <dlfcn.h>
#include <stdio.h>

#include "dlload.h"
#include "util.h"

static void *
dl_symbols(void *h, const char *soname, const struct dl_sym *syms,
    size_t nsyms, char *why, size_t size)
{
	for (size_t i = 0; i < nsyms; i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (*syms[i].slot == NULL) {
			snprintf(why, size, "%s has no %s", soname,
			    syms[i].name);
			return NULL;
		}
	}
	return h;
}

static void *
dl_open(const struct dl_lib *l, char *why, size_t size)
{
	void *h = NULL;
	size_t i;

	for (i = 0; l->sonames[i] != NULL && h == NULL; i++)
		h = dlopen(l->sonames[i], RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *e = dlerror();

		snprintf(why, size, "cannot load %s: %s", l->sonames[0],
		    e != NULL ? e : "not found");
		return NULL;
	}
	return dl_symbols(h, l->sonames[i - 1], l->syms, l->nsyms, why,
	    size);
}

const char *
dl_load(struct dl_lib *l)
{
	const char *why;

	if (l->loaded || l->failed[0] != '\0')
		return l->loaded ? NULL : l->failed;
	if (dl_open(l, l->failed, sizeof(l->failed)) == NULL)
		return l->failed;
	if (l->init != NULL && (why = l->init()) != NULL) {
		util_strlcpy(l->failed, why, sizeof(l->failed));
		return l->failed;
	}
	l->loaded = true;
	return NULL;
}
