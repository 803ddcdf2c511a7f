/* SPDX-License-Identifier: GPL-3.0-or-later */
/* util.c -- see util.h. */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_GETRANDOM
#include <sys/random.h>
#endif
#include <sys/stat.h>

#include "util.h"

void
util_out_of_memory(void)
{
	static const char msg[] = "yubin: out of memory\n";

	(void)!fwrite(msg, 1, sizeof(msg) - 1, stderr);
	exit(71);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		util_out_of_memory();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		util_out_of_memory();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		util_out_of_memory();
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		util_out_of_memory();
	return s;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

size_t
util_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

void
util_wipe(void *p, size_t n)
{
	if (p == NULL || n == 0)
		return;
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, n);
#else
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
#endif
}

void
util_free_secret(char *s)
{
	if (s == NULL)
		return;
	util_wipe(s, strlen(s));
	free(s);
}

int
util_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

bool
util_strcaseeq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

size_t
util_control(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	if (p[0] < 0x20 || p[0] == 0x7f)
		return 1;
	return n >= 2 && p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f ? 2 : 0;
}

/* A word at a time: the CRLF normaliser runs it over every chunk. */
bool
util_has_8bit(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t any = 0, w;
	size_t i = 0;

	for (; i + sizeof(w) <= n; i += sizeof(w)) {
		memcpy(&w, s + i, sizeof(w));
		any |= w;
	}
	for (; i < n; i++)
		any |= s[i];
	return (any & 0x8080808080808080ULL) != 0;
}

const char *
util_show(const char *s, size_t max, bool ascii_only, char *buf, size_t size)
{
	size_t n = 0, c;

	for (; *s != '\0' && n + 8 < size; s++) {
		unsigned char ch = (unsigned char)*s;

		if (n >= max && (ch & 0xc0) != 0x80) {	/* not mid-UTF-8 */
			n += (size_t)snprintf(buf + n, size - n, "...");
			break;
		}
		c = util_control(s, s[1] != '\0' ? 2 : 1);
		if (c == 2)
			n += (size_t)snprintf(buf + n, size - n, "\\xc2\\x%02x",
			    (unsigned char)*++s);
		else if (c == 1 || (ascii_only && (ch > 0x7f || ch == '\\')))
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", ch);
		else
			buf[n++] = (char)ch;
	}
	if (size > 0)
		buf[n] = '\0';
	return buf;
}

void
util_oneline(char *dst, size_t size, const char *s)
{
	size_t i = 0, o = 0, c;

	if (size == 0)
		return;
	while (s[i] != '\0' && o + 1 < size) {
		c = util_control(s + i, s[i + 1] != '\0' ? 2 : 1);
		if (c == 0)
			dst[o++] = s[i];
		else
			dst[o++] = s[i] == '\r' || s[i] == '\n' ||
			    s[i] == '\t' ? ' ' : '?';
		i += c > 0 ? c : 1;
	}
	dst[o] = '\0';
}

int
util_pwrite(int fd, const void *p, size_t n, off_t off)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		w = pwrite(fd, s, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		s += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

enum util_perm
util_perm_secret(const struct stat *st)
{
	if (st->st_uid != geteuid())
		return UTIL_PERM_OWNER;
	return (st->st_mode & 077) != 0 ? UTIL_PERM_OTHERS_READ : UTIL_PERM_OK;
}

enum util_perm
util_perm_commands(const struct stat *st)
{
	if (st->st_uid != geteuid() && st->st_uid != 0)
		return UTIL_PERM_OWNER;
	return (st->st_mode & 022) != 0 ? UTIL_PERM_OTHERS_WRITE :
	    UTIL_PERM_OK;
}

/* Why the open directory fd is not private, or NULL. */
static const char *
dir_unsafe(int fd, char *why, size_t size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		snprintf(why, size, "%s", strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		snprintf(why, size, "not a directory");
	else if (st.st_uid != geteuid())
		snprintf(why, size, "owned by uid %ld, not by you",
		    (long)st.st_uid);
	else if (st.st_mode & 022)
		snprintf(why, size, "writable by others (chmod 700 it)");
	else
		return NULL;
	return why;
}

int
util_open_private_dir(int dirfd, const char *path, char *why, size_t size)
{
	int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, size, "%s", errno == ELOOP || errno == ENOTDIR ?
		    "not a directory (a symbolic link?)" : strerror(errno));
		return -1;
	}
	if (dir_unsafe(fd, why, size) != NULL) {
		close(fd);
		return -1;
	}
	return fd;
}

int
util_mkdir_p(char *path)
{
	char *s, save;

	for (s = path + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		save = *s;
		*s = '\0';
		if (mkdir(path, 0700) == 0)
			(void)chmod(path, 0700);
		else if (errno != EEXIST) {
			*s = save;
			return -1;
		}
		*s = save;
		if (save == '\0')
			return 0;
	}
}

int
util_random_bytes(void *p, size_t n)
{
	unsigned char *r = p;
	size_t got = 0;
	ssize_t k;
	int fd, e = EIO;

#ifdef HAVE_GETRANDOM
	while (got < n) {
		k = getrandom(r + got, n - got, GRND_NONBLOCK);
		if (k > 0)
			got += (size_t)k;
		else if (k == 0 || errno != EINTR)
			break;		/* EAGAIN: not seeded yet; ENOSYS */
	}
	if (got == n)
		return 0;
#endif
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (got < n) {
		k = read(fd, r + got, n - got);
		if (k > 0)
			got += (size_t)k;
		else if (k == 0 || errno != EINTR) {
			e = k == 0 ? EIO : errno;
			break;
		}
	}
	(void)close(fd);
	if (got < n) {
		errno = e;
		return -1;
	}
	return 0;
}

/* When the kernel has none: a time-seeded xorshift64, good for names. */
static void
weak_random_bytes(unsigned char *r, size_t n)
{
	static uint64_t state;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	state ^= (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^
	    (uint64_t)ts.tv_sec;
	for (size_t i = 0; i < n; i++) {		/* xorshift64 */
		state ^= state << 13;
		state ^= state >> 7;
		state ^= state << 17;
		r[i] = (unsigned char)(state >> 24);
	}
}

void
util_random_name(char *out, size_t n)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[64];
	size_t i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < sizeof(r) ? n - i : sizeof(r);
		if (util_random_bytes(r, k) < 0)
			weak_random_bytes(r, k);
		for (size_t j = 0; j < k; j++)
			out[i + j] = set[r[j] % (sizeof(set) - 1)];
	}
	out[n] = '\0';
}

bool
util_test_hook(const char *var, const char *point)
{
	const char *v = getenv(var), *p;
	size_t n = strlen(point);

	if (v == NULL)
		return false;
	for (p = v; (p = strstr(p, point)) != NULL; p += n)
		if ((p == v || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return true;
	return false;
}

bool
util_test_fail(const char *point)
{
	if (!util_test_hook("YUBIN_TEST_FAIL_AT", point))
		return false;
	errno = ENOSPC;
	return true;
}

void
util_test_crash(const char *point)
{
	if (util_test_hook("YUBIN_TEST_CRASH_AT", point))
		(void)raise(SIGKILL);
}

bool
util_test_armed(const char *point)
{
	return util_test_hook("YUBIN_TEST_CRASH_AT", point);
}

bool
util_disk_full(int e)
{
	return e == ENOSPC || e == EDQUOT;
}

long long
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- dynbuf */

void
dynbuf_init(struct dynbuf *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->cap = cap;
}

int
dynbuf_add(struct dynbuf *b, const void *p, size_t n)
{
	size_t need;

	if (n > b->cap || b->len > b->cap - n)
		return -1;
	need = b->len + n + 1;
	if (need > b->alloc) {
		size_t alloc = b->alloc ? b->alloc : 256;
		char *q;

		while (alloc < need)
			alloc *= 2;
		q = xmalloc(alloc);
		if (b->data != NULL) {
			memcpy(q, b->data, b->len);
			if (b->secret)
				util_wipe(b->data, b->alloc);
			free(b->data);
		}
		b->data = q;
		b->alloc = alloc;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
dynbuf_addstr(struct dynbuf *b, const char *s)
{
	return dynbuf_add(b, s, strlen(s));
}

int
dynbuf_printf(struct dynbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n, r;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		util_out_of_memory();
	r = dynbuf_add(b, s, (size_t)n);
	if (b->secret)
		util_wipe(s, (size_t)n);
	free(s);
	return r;
}

void
dynbuf_consume(struct dynbuf *b, size_t n)
{
	if (n >= b->len) {
		dynbuf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	if (b->secret)
		util_wipe(b->data + b->len, n);
	b->data[b->len] = '\0';
}

void
dynbuf_reset(struct dynbuf *b)
{
	if (b->data == NULL)
		return;
	if (b->secret)
		util_wipe(b->data, b->alloc);
	b->len = 0;
	b->data[0] = '\0';
}

/* Wait for fd to be readable before deadline: 0, or -1 (errno). */
static int
wait_readable(int fd, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long long left;
	int r;

	do {
		left = deadline - util_now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
	} while (r == 0 || (r < 0 && errno == EINTR));
	return r < 0 ? -1 : 0;
}

int
dynbuf_read_fd_until(struct dynbuf *b, int fd, long long deadline,
    bool *overflow)
{
	char buf[4096];
	ssize_t n;

	*overflow = false;
	for (;;) {
		if (deadline >= 0 && wait_readable(fd, deadline) < 0) {
			n = -1;
			break;
		}
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!*overflow && dynbuf_add(b, buf, (size_t)n) < 0)
			*overflow = true;
	}
	util_wipe(buf, sizeof(buf));
	return n < 0 ? -1 : 0;
}

int
dynbuf_read_fd(struct dynbuf *b, int fd, bool *overflow)
{
	return dynbuf_read_fd_until(b, fd, -1, overflow);
}

void
dynbuf_release(struct dynbuf *b)
{
	if (b->data != NULL && b->secret)
		util_wipe(b->data, b->alloc);
	free(b->data);
	b->data = NULL;
	b->len = b->alloc = 0;
}

/* ---------------------------------------------------------------- misc */

const char *
util_home(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home != NULL && *home != '\0')
		return home;
	pw = getpwuid(getuid());
	return pw != NULL ? pw->pw_dir : NULL;
}

int
util_state_home(char *buf, size_t size)
{
	const char *x = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	struct passwd *pw;
	int n;

	if (x != NULL && x[0] == '/')
		n = snprintf(buf, size, "%s", x);
	else {
		if (home == NULL || home[0] != '/') {
			pw = getpwuid(getuid());
			if (pw == NULL || pw->pw_dir == NULL ||
			    pw->pw_dir[0] != '/') {
				errno = ENOENT;
				return -1;
			}
			home = pw->pw_dir;
		}
		n = snprintf(buf, size, "%s/.local/state", home);
	}
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
util_pct_encode(struct dynbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
		int r;

		if (isalnum(c) || strchr("-._~", c) != NULL)
			r = dynbuf_add(b, s, 1);
		else
			r = dynbuf_add(b, esc, 3);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

char *
util_pct_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] != '%') {
			out[o++] = s[i] == '+' ? ' ' : s[i];
			continue;
		}
		hi = i + 2 < n ? hex_digit(s[i + 1]) : -1;
		lo = hi >= 0 ? hex_digit(s[i + 2]) : -1;
		if (lo < 0 || (hi == 0 && lo == 0)) {
			util_wipe(out, o);
			free(out);
			return NULL;
		}
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[o] = '\0';
	return out;
}

size_t
util_base64(const void *in, size_t n, enum util_base64 how, char *out)
{
	static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *set = how == UTIL_BASE64URL ? url : std;
	const unsigned char *p = in;
	bool pad = how == UTIL_BASE64;
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[o++] = set[v >> 18 & 63];
		out[o++] = set[v >> 12 & 63];
		if (i + 1 < n || pad)
			out[o++] = i + 1 < n ? set[v >> 6 & 63] : '=';
		if (i + 2 < n || pad)
			out[o++] = i + 2 < n ? set[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

int
util_fingerprint_parse(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	char sep = '\0';
	int hi, lo;

	while (*s != '\0') {
		hi = hex_digit(s[0]);
		lo = hi < 0 ? -1 : hex_digit(s[1]);
		if (lo < 0 || n == max)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | lo);
		s += 2;
		if (n == 1 && (*s == ':' || *s == ' '))
			sep = *s;
		if (sep != '\0' && *s != '\0' && *s++ != sep)
			return -1;
	}
	if (n == 0 || (sep != '\0' && s[-1] == sep))
		return -1;
	return (int)n;
}
