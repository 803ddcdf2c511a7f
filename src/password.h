/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * password.h -- where the password comes from. The sources, in order; the
 * first that has one wins:
 *
 *   1. password      in the config file (config.c refuses a file other
 *                    users can read when it holds one)
 *   2. passwordeval  /bin/sh -c CMD: the first line of its stdout; stdin is
 *                    /dev/null, stderr passed through, exit status checked;
 *                    a process group of its own (with the terminal's
 *                    foreground when yubin has it), killed at the
 *                    account's timeout (ERR_TEMP)
 *   3. keyring       the Secret Service through libsecret (keyring.h):
 *                    attributes host, service "smtp", user -- msmtp's items
 *                    too; skipped at once when there is no D-Bus session
 *   4. netrc         $NETRC or ~/.netrc (netrc.h): machine HOST login USER
 *   5. prompt        "password for USER at HOST: " on /dev/tty, echo off;
 *                    skipped when there is no terminal (cron)
 *
 * What the user wrote for the account (1, 2) comes before what yubin
 * finds by itself (3-5), as in msmtp: a configured passwordeval is never
 * overridden by a stale keyring item, and never waits on D-Bus.
 * A source that is configured but broken (passwordeval exits 1, a netrc
 * other users can read) stops the search: it never falls through to a
 * prompt.
 */
#ifndef YUBIN_PASSWORD_H
#define YUBIN_PASSWORD_H

struct account;
struct error;

/*
 * *out: the password, malloc'd; free it with util_free_secret().
 * Nothing found: ERR_AUTH (77); the message lists each source with why it
 * had nothing, and how to fix it. passwordeval failing (exit status, no
 * output): ERR_AUTH with the command's status ("passwordeval for account
 * 'x' exited with status 1"). A netrc error: ERR_CONFIG.
 */
int password_get(const struct account *a, char **out, struct error *err);

/*
 * Run cmd with /bin/sh -c (stdin /dev/null, stderr passed through; a
 * process group of its own, with the terminal's foreground when yubin has
 * it) and return the first line of its output in *out (util_free_secret()
 * it). The account's timeout bounds it: past it the group is killed,
 * ERR_TEMP "passwordeval for account 'x' did not finish within N s".
 * key names the setting in messages ("passwordeval for account 'x' exited
 * with status 1"), noun what was wanted ("printed no password"). ERR_AUTH
 * for a failing command or no output.
 */
int password_eval(const struct account *a, const char *key, const char *cmd,
    const char *noun, char **out, struct error *err);

/*
 * yubin --store-password: read a password (from /dev/tty, twice, echo off,
 * when stdin is a terminal; else the first line of stdin) and store it in
 * the keyring for the account's host and user (replacing any item there).
 * The keyring is checked before anything is read. ERR_CONFIG without
 * 'user'; ERR_UNAVAILABLE when the keyring cannot be used; ERR_DATAERR for
 * an empty password or two that differ.
 */
int password_store(const struct account *a, struct error *err);

/*
 * yubin --forget-password: remove the account's items from the keyring.
 * Nothing there is only a warning.
 */
int password_forget(const struct account *a, struct error *err);

#endif
