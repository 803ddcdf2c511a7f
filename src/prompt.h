/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * prompt.h -- read a secret typed by the user: on /dev/tty with echo off
 * (readpassphrase(3)'s rules), or as the first line of a file descriptor
 * (stdin when it is not a terminal).
 */
#ifndef YUBIN_PROMPT_H
#define YUBIN_PROMPT_H

#include <stddef.h>
#include <sys/types.h>

#include "cred.h"

struct error;

/*
 * Write prompt to /dev/tty and read one line with echo off; the terminal
 * settings are restored on every way out, a signal too (SIGINT, SIGTERM,
 * SIGHUP, SIGQUIT, SIGALRM: the settings are restored, then the signal is
 * delivered as if it had come after; SIGTSTP, SIGTTIN, SIGTTOU: the
 * settings are restored, the process stops, and the prompt starts again
 * when it is continued).
 *   CRED_FOUND: *out is the line without its newline (malloc'd, free it
 *       with util_free_secret()).
 *   CRED_NONE: no terminal to ask: /dev/tty cannot be opened (cron, a
 *       daemon), or the process is not in the terminal's foreground
 *       process group (reading would stop it); why (size bytes) says
 *       which.
 *   CRED_ERROR: the user entered nothing (an empty line or end of file),
 *       the prompt was interrupted, or the line is longer than 8 KiB
 *       (ERR_AUTH).
 */
enum cred prompt_tty(const char *prompt, char **out, char *why, size_t size,
    struct error *err);

/*
 * The first line of fd (read to its end, so a writer never gets SIGPIPE),
 * without its "\n" or "\r\n". 0 and *out (free with util_free_secret());
 * -1 when empty, longer than 64 KiB or unreadable (ERR_DATAERR / ERR_IOERR).
 */
int prompt_read_line(int fd, char **out, struct error *err);

/*
 * A command run for the user (passwordeval) gets a process group of its
 * own, so that a timeout can kill all of it; when yubin is in the
 * foreground of its terminal, that group must get the foreground while it
 * runs, or a command that prompts on /dev/tty would be stopped (SIGTTIN).
 * prompt_fg_open(): /dev/tty when this process is in its foreground, else
 * -1 (nothing to hand over). prompt_fg_give(fd, pgid): hand the
 * foreground to pgid (in the child as well as in the parent: whichever
 * comes first). prompt_fg_take(fd): take it back and close fd; -1 is fine.
 */
int prompt_fg_open(void);
void prompt_fg_give(int fd, pid_t pgid);
void prompt_fg_take(int fd);

#endif
