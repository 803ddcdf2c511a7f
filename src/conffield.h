/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * conffield.h -- the fields of struct account_conf, each described once:
 * where key X (enum config_key) lives, of which kind, its name in a file
 * (msmtp's), whether it is a secret, and how its value is written back.
 * So a key's value can be copied from one account to another
 * (inheritance), freed, and shown: conffield_each() walks an account's
 * keys as a file would write them (what --pretend prints).
 */
#ifndef YUBIN_CONFFIELD_H
#define YUBIN_CONFFIELD_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Every key: the mask for conffield_copy() of a whole account. */
#define CONFFIELD_ALL ((1UL << CONF_NKEYS) - 1)

char **conffield_str(struct account_conf *a, enum config_key k);
bool *conffield_bool(struct account_conf *a, enum config_key k);
long *conffield_long(struct account_conf *a, enum config_key k);

/* Replace string field k with a copy of v (NULL: unset); the old value is
 * wiped (it may be a password). */
void conffield_set_str(struct account_conf *a, enum config_key k,
    const char *v);

/*
 * Copy into dst the value of each key whose bit (1UL << CONF_X) is in mask:
 * strings are duplicated (dst's old string is wiped and freed), other
 * values assigned. Does not touch dst->set, name, file.
 */
void conffield_copy(struct account_conf *dst, const struct account_conf *src,
    unsigned long mask);

/* Wipe and free every string value of a and set it to NULL. */
void conffield_release(struct account_conf *a);

/* The key's name in a file ("tls_trust_file"). */
const char *conffield_name(enum config_key k);

/* Whether the value is a secret (password, oauth2_client_secret). */
bool conffield_secret(enum config_key k);

/*
 * k's value in a as a file would write it ("on", "587", "on-failure", a
 * string), in buf when it is not a string of a; NULL when a string is
 * unset (or the port is 0). A secret is returned as it is: masking it is
 * the caller's job.
 */
const char *conffield_format(const struct account_conf *a, enum config_key k,
    char *buf, size_t size);

/*
 * fn(arg, k, name, value) for every key of a, in enum order; value as
 * conffield_format() gives it. Whether k was written: config_isset().
 */
void conffield_each(const struct account_conf *a,
    void (*fn)(void *arg, enum config_key k, const char *name,
    const char *value), void *arg);

#endif
