/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * flushsched.c -- see flushsched.h.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "flushsched.h"
#include "shellcmd.h"
#include "util.h"

#define FLUSHSCHED_WANTS "systemd/user/timers.target.wants/yubin-flush.timer"
#define FLUSHSCHED_CRONTAB_MAX (64 * 1024)

static bool
timer_enabled(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = util_home();
	char *p;
	bool found = access("/etc/" FLUSHSCHED_WANTS, F_OK) == 0;

	if (!found && xdg != NULL && xdg[0] == '/') {
		p = xasprintf("%s/" FLUSHSCHED_WANTS, xdg);
		found = access(p, F_OK) == 0;
		free(p);
	}
	if (!found && home != NULL) {
		p = xasprintf("%s/.config/" FLUSHSCHED_WANTS, home);
		found = access(p, F_OK) == 0;
		free(p);
	}
	return found;
}

/* A crontab line that runs yubin -q (or --flush), not commented out. */
static bool
cron_line(const char *line, size_t n)
{
	char buf[1024];
	const char *s = buf;

	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, line, n);
	buf[n] = '\0';
	s += strspn(s, " \t");
	if (*s == '#' || strstr(s, "yubin") == NULL)
		return false;
	return strstr(s, " -q") != NULL || strstr(s, "--flush") != NULL;
}

static bool
cron_entry(void)
{
	struct dynbuf out;
	struct shellcmd_result res;
	struct error err;
	bool found = false;

	dynbuf_init(&out, FLUSHSCHED_CRONTAB_MAX);
	error_init(&err);
	if (shellcmd_run("crontab -l", "crontab -l 2>/dev/null", 2000, &out,
	    &res, &err) == 0 && !res.signaled && res.status == 0 &&
	    out.len > 0) {
		for (size_t i = 0, start = 0; i <= out.len && !found; i++)
			if (i == out.len || out.data[i] == '\n') {
				found = cron_line(out.data + start, i - start);
				start = i + 1;
			}
	}
	dynbuf_release(&out);
	return found;
}

bool
flushsched_exists(void)
{
	return timer_enabled() || cron_entry();
}
