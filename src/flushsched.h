/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * flushsched.h -- whether anything will run "yubin -q" later: the systemd
 * user timer enabled, or a crontab line. Asked when a message is queued,
 * so the "message queued" note can say when nothing ever will send it.
 */
#ifndef YUBIN_FLUSHSCHED_H
#define YUBIN_FLUSHSCHED_H

#include <stdbool.h>

/* The command that enables the timer, for the note. */
#define FLUSHSCHED_ENABLE "systemctl --user enable --now yubin-flush.timer"

/*
 * True when yubin-flush.timer is enabled (a timers.target.wants link in
 * $XDG_CONFIG_HOME/systemd/user, ~/.config/systemd/user or
 * /etc/systemd/user), or "crontab -l" (2 s at most) has a line, not a
 * comment, that runs yubin with -q or --flush.
 */
bool flushsched_exists(void);

#endif
