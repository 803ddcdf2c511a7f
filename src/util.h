/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * util.h -- small helpers shared by every module: checked allocation, a
 * growable buffer with a hard cap, bounded string copies, secret wiping.
 */
#ifndef YUBIN_UTIL_H
#define YUBIN_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct dynbuf;

/*
 * The one out-of-memory policy: "yubin: out of memory" on stderr, exit 71
 * (EX_OSERR). Allocation never returns NULL: x*() call it on failure.
 */
void util_out_of_memory(void) __attribute__((noreturn));
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh heap string. */
char *xasprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

/* Copy at most size-1 bytes and NUL-terminate; returns strlen(src). */
size_t util_strlcpy(char *dst, const char *src, size_t size);

/* Overwrite memory that held a secret (explicit_bzero). NULL is fine. */
void util_wipe(void *p, size_t n);
/* Wipe a NUL-terminated string, then free it. NULL is fine. */
void util_free_secret(char *s);

/* Parse a decimal integer in [min, max]; 0 on success, -1 otherwise. */
int util_parse_long(const char *s, long min, long max, long *out);

/* Case-insensitive ASCII comparison of two strings; true if equal. */
bool util_strcaseeq(const char *a, const char *b);

/*
 * Whether any of the n bytes at p is >= 0x80 (8-bit: UTF-8 or worse).
 * The one test for "is this ASCII": message bodies (8BITMIME), header
 * fields and addresses (SMTPUTF8, IDNA), display names (RFC 2047).
 */
bool util_has_8bit(const void *p, size_t n);

/*
 * The one rule for text a person will see: no control character goes
 * through as it is. The length of the one at s (n >= 1 bytes there): 1 for
 * C0 (NUL included) and DEL, 2 for a C1 control U+0080..U+009F as UTF-8
 * (C2 80..C2 9F: CSI and friends); 0 when s does not start with one. The
 * sanitisers below and reply_format() differ only in what they put
 * instead.
 */
size_t util_control(const char *s, size_t n);

/*
 * s made safe to quote in a message: each control (util_control()) as
 * \xNN (with ascii_only, also every byte >= 0x7f and backslashes), cut
 * with "..." after max bytes (never inside a UTF-8 sequence). The
 * sanitiser for text from the command line, a header or a file. Returns
 * buf.
 */
const char *util_show(const char *s, size_t max, bool ascii_only, char *buf,
    size_t size);

/*
 * Copy s into dst (size bytes) on one line: CR, LF and TAB become ' ',
 * every other control (util_control()) one '?'. For one-line records: a
 * queue file's state, --queue-list's columns, a report's Subject.
 */
void util_oneline(char *dst, size_t size, const char *s);

/* pwrite() all of p at off, retrying on EINTR; -1 with errno. */
int util_pwrite(int fd, const void *p, size_t n, off_t off);

struct stat;

/* Who may touch a file that holds a secret or can run commands. */
enum util_perm {
	UTIL_PERM_OK,
	UTIL_PERM_OTHERS_READ,	/* group or others may read it */
	UTIL_PERM_OTHERS_WRITE,	/* group or others may write it */
	UTIL_PERM_OWNER,	/* owned by another user */
};

/* A file holding a secret: ours (euid), nobody else may read it. */
enum util_perm util_perm_secret(const struct stat *st);
/*
 * A file that can run commands (passwordeval): ours or root's, nobody
 * else may write it (msmtp's rule for a password).
 */
enum util_perm util_perm_commands(const struct stat *st);

/*
 * Open path (a directory, never through a symbolic link: O_NOFOLLOW) with
 * flags, relative to dirfd (AT_FDCWD for none), and check that it is ours
 * and that nobody else may write to it. The fd, or -1 with why filled:
 * "not a directory (a symbolic link?)", "owned by uid N, not by you",
 * "writable by others (chmod 700 it)", or strerror(). The queue and the
 * spool share this one rule.
 */
int util_open_private_dir(int dirfd, const char *path, char *why,
    size_t size);

/*
 * mkdir -p: every missing component is created with mode 0700 (chmod after
 * mkdir, so the umask does not matter). -1 with errno on failure. path is
 * modified during the call and restored.
 */
int util_mkdir_p(char *path);

/*
 * n random bytes from the kernel: getrandom(2) without blocking, else
 * /dev/urandom. The one generator for what must not collide (Message-ID,
 * queue IDs, file names); key-grade secrets (PKCE, OAuth state) come from
 * tls_random() instead. 0, or -1 with errno.
 */
int util_random_bytes(void *p, size_t n);

/*
 * n random letters and digits into out, NUL-terminated (out has n + 1
 * bytes). For file names, which O_EXCL protects: not a secret, so when
 * util_random_bytes() fails a time-seeded xorshift is good enough.
 */
void util_random_name(char *out, size_t n);

/*
 * Test hooks, inert unless the variable is set: whether point is in the
 * comma-separated list in the environment variable var.
 * util_test_fail(point): YUBIN_TEST_FAIL_AT holds point; errno is then
 * ENOSPC, and the caller fails as if the disk were full. Points are listed
 * in queue.h.
 */
bool util_test_hook(const char *var, const char *point);
bool util_test_fail(const char *point);
/*
 * util_test_crash(point): YUBIN_TEST_CRASH_AT holds point: raise(SIGKILL),
 * a crash right there. util_test_armed(point): whether it would (to tear a
 * write in two first).
 */
void util_test_crash(const char *point);
bool util_test_armed(const char *point);

/* Whether errno value e means "out of disk space" (ENOSPC, EDQUOT). */
bool util_disk_full(int e);

/* Monotonic clock in milliseconds. */
long long util_now_ms(void);

/*
 * The user's home directory: $HOME when it is set and not empty, else the
 * passwd entry's; NULL when there is none. For the config file lookup,
 * "~" in config values and ~/.netrc.
 */
const char *util_home(void);

/*
 * The user's state directory into buf: $XDG_STATE_HOME if absolute, else
 * ~/.local/state ($HOME, or the passwd entry). -1 with errno (ENOENT: no
 * home directory; ENAMETOOLONG) on failure. No I/O but getpwuid().
 */
int util_state_home(char *buf, size_t size);

/*
 * Percent-encode s onto b (RFC 3986: A-Z a-z 0-9 - . _ ~ kept, every
 * other byte %XX), as application/x-www-form-urlencoded values and URL
 * query parameters want. -1 when b's cap is reached.
 */
int util_pct_encode(struct dynbuf *b, const char *s);

/*
 * Decode n bytes of percent-encoded text ("+" is a space, as in a form or
 * a query). A fresh string, or NULL for a bad %-escape or an encoded NUL.
 */
char *util_pct_decode(const char *s, size_t n);

/* Which base64 (RFC 4648). */
enum util_base64 {
	UTIL_BASE64,		/* section 4: "+/", '=' padding (RFC 2047) */
	UTIL_BASE64URL,		/* section 5: "-_", no padding (PKCE) */
};

/*
 * n bytes as base64 into out, NUL-terminated: out needs
 * UTIL_BASE64_SIZE(n) bytes. The length written.
 */
#define UTIL_BASE64_SIZE(n) (((n) + 2) / 3 * 4 + 1)
size_t util_base64(const void *in, size_t n, enum util_base64 how,
    char *out);

/*
 * A certificate fingerprint as tls_fingerprint is written: hex bytes in
 * any case, each pair followed by ':' or ' ' (the same all along, none
 * after the last) or by nothing ("01:AB:..", "01 ab ..", "01ab.."). The
 * bytes into out; their count (32: SHA-256, 20: SHA-1, 16: MD5), or -1
 * when s is anything else or holds more than max bytes. The one parser for
 * the config file, the account check and the TLS check.
 */
int util_fingerprint_parse(const char *s, unsigned char *out, size_t max);

/*
 * A growable byte buffer with an explicit cap (curl's dynbuf "toobig").
 * Always NUL-terminated after data[len] when data != NULL.
 */
struct dynbuf {
	char *data;
	size_t len;
	size_t alloc;
	size_t cap;		/* hard upper bound for len */
	bool secret;		/* wipe on reset/release */
};

void dynbuf_init(struct dynbuf *b, size_t cap);
/* Append; returns -1 (buffer unchanged) if the cap would be exceeded. */
int dynbuf_add(struct dynbuf *b, const void *p, size_t n);
int dynbuf_addstr(struct dynbuf *b, const char *s);
int dynbuf_printf(struct dynbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Drop the first n bytes. */
void dynbuf_consume(struct dynbuf *b, size_t n);
/* Empty the buffer (wiping it when secret), keeping the allocation. */
void dynbuf_reset(struct dynbuf *b);
void dynbuf_release(struct dynbuf *b);

/*
 * Read fd to its end into b. What does not fit under b's cap is read and
 * dropped, and *overflow says so. -1 with errno on a read error. The stack
 * buffer used is wiped (b may be secret).
 */
int dynbuf_read_fd(struct dynbuf *b, int fd, bool *overflow);
/*
 * The same, before deadline (util_now_ms() time; -1: none): past it, -1
 * with errno ETIMEDOUT and what was read so far in b.
 */
int dynbuf_read_fd_until(struct dynbuf *b, int fd, long long deadline,
    bool *overflow);

#endif
