/*
 * password.h -- where the password comes from, in order: "password" in the
 * (private) config file, "passwordeval" (run with /bin/sh -c, first line of
 * its stdout, exit status checked, stderr passed through). Later: keyring
 * (libsecret), ~/.netrc, a prompt on /dev/tty.
 */
#ifndef YUBIN_PASSWORD_H
#define YUBIN_PASSWORD_H

struct account;
struct error;

/*
 * *out: the password, malloc'd; free it with util_free_secret().
 * Nothing found: ERR_AUTH, the message lists what was tried and how to fix
 * it. passwordeval failing (exit status, no output): ERR_AUTH with the
 * command's status ("passwordeval for account 'x' exited with status 1").
 */
int password_get(const struct account *a, char **out, struct error *err);

#endif
