/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * pretend.c -- see pretend.h.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "account.h"
#include "conffield.h"
#include "pretend.h"

struct pretend {
	FILE *f;
	const struct account *a;
};

/* The value yubin works out for k, or NULL: the one written. */
static const char *
resolved(const struct account *a, enum config_key k, char *buf,
    size_t size)
{
	switch (k) {
	case CONF_PORT:
		snprintf(buf, size, "%d", a->port);
		return buf;
	case CONF_TLS:
		return a->tls != ACCOUNT_TLS_OFF ? "on" : "off";
	case CONF_TLS_STARTTLS:
		return a->tls == ACCOUNT_TLS_STARTTLS ? "on" : "off";
	case CONF_AUTH:
		return !a->auth ? "off" : a->auth_mech != NULL ?
		    a->auth_mech : "on";
	case CONF_FROM:
		return a->from;
	case CONF_DOMAIN:
		return a->domain;
	case CONF_QUEUE_MAX_AGE:
		snprintf(buf, size, "%ld", a->queue_max_age);
		return buf;
	default:
		return NULL;
	}
}

static void
print_key(void *arg, enum config_key k, const char *name, const char *value)
{
	const struct pretend *p = arg;
	char buf[32];
	const char *r = resolved(p->a, k, buf, sizeof(buf));

	if (r != NULL)
		value = r;
	if (value != NULL && conffield_secret(k))
		value = "*";
	fprintf(p->f, "%s = %s\n", name, value != NULL ? value :
	    "(not set)");
}

void
pretend_print(FILE *f, const struct account *a)
{
	struct pretend p = { .f = f, .a = a };

	const char *file = a->conf->file;

	if (strcmp(file, "SMTPSERVER") == 0)
		file = "SMTPSERVER and EMAIL";
	fprintf(f, "using account %s from %s\n", a->name, file);
	conffield_each(a->conf, print_key, &p);
}
