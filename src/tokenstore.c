/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tokenstore.c -- see tokenstore.h. The token file is text, one "key
 * value" per line, values percent-encoded:
 *
 *	yubin-oauth2 1
 *	store file
 *	client_id 0123-...
 *	token_url https%3A%2F%2F...
 *	refresh_token ...
 *	access_token ...
 *	issued 1764996400
 *	expires 1765000000
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "tokenstore.h"
#include "util.h"

#define TOKEN_FILE_MAX (64 * 1024)
#define TOKEN_MAGIC "yubin-oauth2 1"
#define TOKEN_LOCK_WAIT_MS 60000	/* with timeout off */
#define TOKEN_LOCK_NAP_MS 20		/* between two tries */

static const char *const store_names[] = {
	[TOKEN_STORE_NONE] = "none",
	[TOKEN_STORE_FILE] = "file",
	[TOKEN_STORE_KEYRING] = "keyring",
};

const char *
tokenstore_name(enum token_store s)
{
	return (size_t)s < ARRAY_SIZE(store_names) ? store_names[s] : "?";
}

/* "USER@HOST" with both percent-encoded: a safe file name. */
static int
base_name(const char *host, const char *user, struct dynbuf *b)
{
	return util_pct_encode(b, user) || dynbuf_addstr(b, "@") ||
	    util_pct_encode(b, host) ? -1 : 0;
}

int
tokenstore_init(struct tokenstore *ts, const char *host, const char *user,
    struct error *err)
{
	char home[PATH_MAX];
	struct dynbuf b;
	int r = 0;

	memset(ts, 0, sizeof(*ts));
	ts->host = host;
	ts->user = user;
	ts->lockfd = -1;
	if (util_state_home(home, sizeof(home)) < 0)
		return error_set(err, ERR_CANTCREAT, "cannot find the OAuth 2.0 "
		    "token directory: %s", strerror(errno));
	dynbuf_init(&b, 512);
	if (base_name(host, user, &b) < 0 ||
	    snprintf(ts->dir, sizeof(ts->dir), "%s/yubin/oauth", home) >=
	    (int)sizeof(ts->dir) ||
	    snprintf(ts->path, sizeof(ts->path), "%s/%s.token", ts->dir,
	    b.data) >= (int)sizeof(ts->path) ||
	    snprintf(ts->lock, sizeof(ts->lock), "%s/%s.lock", ts->dir,
	    b.data) >= (int)sizeof(ts->lock))
		r = error_set(err, ERR_CANTCREAT, "OAuth 2.0 token file name "
		    "too long");
	dynbuf_release(&b);
	return r;
}

/* ---------------------------------------------------------------- read */

/* The file must be ours and private, like a config file with a secret. */
static int
check_file(int fd, const char *path, struct error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return error_set(err, ERR_CONFIG, "cannot use '%s': %s", path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return error_set(err, ERR_CONFIG, "refusing token file '%s': "
		    "not a regular file", path);
	if (st.st_uid != geteuid())
		return error_set(err, ERR_CONFIG, "refusing token file '%s': "
		    "owned by uid %ld, not by you", path, (long)st.st_uid);
	if (st.st_mode & 077)
		return error_set(err, ERR_CONFIG, "refusing token file '%s': "
		    "other users can read it (chmod 600 '%s')", path, path);
	return 0;
}

/* Set one field from a "key value" line; unknown keys are ignored. */
static int
parse_line(struct token_state *st, const char *line, size_t n)
{
	static const struct { const char *key; size_t off; } strs[] = {
		{ "client_id", offsetof(struct token_state, client_id) },
		{ "token_url", offsetof(struct token_state, token_url) },
		{ "refresh_token", offsetof(struct token_state, refresh) },
		{ "access_token", offsetof(struct token_state, access) },
	};
	size_t k = strcspn(line, " ");
	const char *v = line + k + (k < n);
	size_t vn = n - k - (k < n);

	if (k == 5 && strncmp(line, "store", 5) == 0) {
		st->store = vn == 4 && strncmp(v, "file", 4) == 0 ?
		    TOKEN_STORE_FILE : vn == 7 && strncmp(v, "keyring", 7)
		    == 0 ? TOKEN_STORE_KEYRING : TOKEN_STORE_NONE;
		return 0;
	}
	if ((k == 7 && strncmp(line, "expires", 7) == 0) ||
	    (k == 6 && strncmp(line, "issued", 6) == 0)) {
		char num[24];

		if (vn == 0 || vn >= sizeof(num))
			return -1;
		memcpy(num, v, vn);
		num[vn] = '\0';
		*(k == 7 ? &st->expires : &st->issued) = strtoll(num, NULL,
		    10);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++) {
		char **f = (char **)(void *)((char *)st + strs[i].off);

		if (k != strlen(strs[i].key) ||
		    strncmp(line, strs[i].key, k) != 0)
			continue;
		util_free_secret(*f);
		*f = util_pct_decode(v, vn);
		return *f != NULL && **f != '\0' ? 0 : -1;
	}
	return 0;
}

static int
parse_file(struct token_state *st, const struct dynbuf *b, const char *path,
    struct error *err)
{
	const char *p = b->data != NULL ? b->data : "";
	size_t n = strcspn(p, "\n");

	if (n != strlen(TOKEN_MAGIC) || strncmp(p, TOKEN_MAGIC, n) != 0)
		return error_set(err, ERR_CONFIG, "refusing token file '%s': "
		    "not a yubin OAuth 2.0 token file", path);
	for (p += n; *p == '\n'; p += n) {
		p++;
		n = strcspn(p, "\n");
		if (n > 0 && parse_line(st, p, n) < 0)
			return error_set(err, ERR_CONFIG, "token file '%s' is "
			    "damaged; log in again (yubin --login)", path);
	}
	return 0;
}

int
tokenstore_read(const struct tokenstore *ts, struct token_state *st,
    struct error *err)
{
	struct dynbuf b;
	bool overflow;
	int fd, r;

	memset(st, 0, sizeof(*st));
	fd = open(ts->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return error_set(err, ERR_CONFIG, "cannot read token file '%s': "
		    "%s", ts->path, errno == ELOOP ? "it is a symbolic link" :
		    strerror(errno));
	dynbuf_init(&b, TOKEN_FILE_MAX);
	b.secret = true;
	r = check_file(fd, ts->path, err);
	if (r == 0 && dynbuf_read_fd(&b, fd, &overflow) < 0)
		r = error_set(err, ERR_CONFIG, "cannot read token file '%s': "
		    "%s", ts->path, strerror(errno));
	else if (r == 0 && overflow)
		r = error_set(err, ERR_CONFIG, "refusing token file '%s': "
		    "larger than %d bytes", ts->path, TOKEN_FILE_MAX);
	close(fd);
	if (r == 0)
		r = parse_file(st, &b, ts->path, err);
	dynbuf_release(&b);
	st->exists = r == 0;
	if (r < 0)
		token_state_release(st);
	return r;
}

/* ---------------------------------------------------------------- write */

/* The directory, made private and checked like the queue's. */
static int
make_dir(const struct tokenstore *ts, struct error *err)
{
	char dir[PATH_MAX];
	struct stat st;

	util_strlcpy(dir, ts->dir, sizeof(dir));
	if (util_mkdir_p(dir) < 0 || lstat(ts->dir, &st) < 0)
		return error_set(err, ERR_CANTCREAT, "cannot create '%s': %s",
		    ts->dir, strerror(errno));
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0)
		return error_set(err, ERR_CONFIG, "refusing token directory "
		    "'%s': it must be a directory of yours that nobody else "
		    "can read (chmod 700 '%s')", ts->dir, ts->dir);
	return 0;
}

static int
add_field(struct dynbuf *b, const char *key, const char *value)
{
	if (value == NULL)
		return 0;
	return dynbuf_printf(b, "%s ", key) || util_pct_encode(b, value) ||
	    dynbuf_addstr(b, "\n") ? -1 : 0;
}

static int
format_state(const struct token_state *st, struct dynbuf *b)
{
	return dynbuf_printf(b, "%s\nstore %s\n", TOKEN_MAGIC,
	    tokenstore_name(st->store)) ||
	    add_field(b, "client_id", st->client_id) ||
	    add_field(b, "token_url", st->token_url) ||
	    add_field(b, "refresh_token", st->refresh) ||
	    add_field(b, "access_token", st->access) ||
	    dynbuf_printf(b, "issued %lld\nexpires %lld\n", st->issued,
	    st->expires) ? -1 : 0;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* Write b into a fresh private file next to the token file, then rename. */
static int
replace_file(const struct tokenstore *ts, const struct dynbuf *b)
{
	char tmp[PATH_MAX + 16], rnd[9];
	int fd, saved;

	util_random_name(rnd, 8);
	if (snprintf(tmp, sizeof(tmp), "%s.%s", ts->path, rnd) >=
	    (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0)
		return -1;
	if (write_all(fd, b->data, b->len) < 0 || fsync(fd) < 0) {
		saved = errno;
		close(fd);
		fd = -1;
		errno = saved;
	}
	if (fd < 0 || close(fd) < 0 || rename(tmp, ts->path) < 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return sync_dir(ts->dir);
}

int
tokenstore_write(const struct tokenstore *ts, const struct token_state *st,
    struct error *err)
{
	struct dynbuf b;
	int r = 0;

	if (make_dir(ts, err) < 0)
		return -1;
	dynbuf_init(&b, TOKEN_FILE_MAX);
	b.secret = true;
	if (format_state(st, &b) < 0)
		r = error_set(err, ERR_SOFTWARE, "token too long to store");
	else if (replace_file(ts, &b) < 0)
		r = error_set(err, ERR_CANTCREAT, "cannot write token file "
		    "'%s': %s", ts->path, strerror(errno));
	dynbuf_release(&b);
	return r;
}

/* USER@HOST.token.XXXXXXXX files a crash left (they hold tokens). */
static void
remove_leftovers(const struct tokenstore *ts)
{
	const char *base = strrchr(ts->path, '/') + 1;
	size_t n = strlen(base);
	struct dirent *d;
	DIR *dir = opendir(ts->dir);

	while (dir != NULL && (d = readdir(dir)) != NULL)
		if (strncmp(d->d_name, base, n) == 0 && d->d_name[n] == '.')
			(void)unlinkat(dirfd(dir), d->d_name, 0);
	if (dir != NULL)
		closedir(dir);
}

enum cred
tokenstore_remove(const struct tokenstore *ts, struct error *err)
{
	remove_leftovers(ts);
	if (unlink(ts->path) == 0)
		return CRED_FOUND;
	if (errno == ENOENT)
		return CRED_NONE;
	error_set(err, ERR_CANTCREAT, "cannot remove '%s': %s", ts->path,
	    strerror(errno));
	return CRED_ERROR;
}

/* ---------------------------------------------------------------- lock */

int
tokenstore_lock(struct tokenstore *ts, int timeout_ms, struct error *err)
{
	long long deadline = util_now_ms() + (timeout_ms > 0 ? timeout_ms :
	    TOKEN_LOCK_WAIT_MS);
	struct timespec nap = { 0, TOKEN_LOCK_NAP_MS * 1000 * 1000 };

	if (make_dir(ts, err) < 0)
		return -1;
	ts->lockfd = open(ts->lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (ts->lockfd < 0)
		return error_set(err, ERR_CANTCREAT, "cannot open '%s': %s",
		    ts->lock, strerror(errno));
	while (flock(ts->lockfd, LOCK_EX | LOCK_NB) < 0) {
		if ((errno != EWOULDBLOCK && errno != EINTR) ||
		    util_now_ms() >= deadline) {
			int e = errno;

			tokenstore_unlock(ts);
			return error_set(err, ERR_TEMP, "cannot lock '%s': %s",
			    ts->lock, e == EWOULDBLOCK ? "another yubin is "
			    "refreshing the token" : strerror(e));
		}
		nanosleep(&nap, NULL);
	}
	return 0;
}

void
tokenstore_unlock(struct tokenstore *ts)
{
	if (ts->lockfd >= 0)
		close(ts->lockfd);	/* drops the flock */
	ts->lockfd = -1;
}

void
token_state_release(struct token_state *st)
{
	util_free_secret(st->client_id);
	util_free_secret(st->token_url);
	util_free_secret(st->refresh);
	util_free_secret(st->access);
	memset(st, 0, sizeof(*st));
}
