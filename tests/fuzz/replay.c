/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * replay.c -- a main() for a fuzz target built without libFuzzer (gcc,
 * make check): feed it files, so every corpus file and every crash ever
 * found is a regression test.
 *
 *	replay-NAME PATH...
 *
 * PATH is a file or a directory (its regular files, in name order, not
 * recursive). The inputs run one after the other in a child process, which
 * tells the parent through a pipe which input it is on: a crash, an abort
 * from FUZZ_CHECK, an exit() or a hang of more than $FUZZ_REPLAY_TIMEOUT
 * seconds (default 60) fails that input, and a new child goes on with the
 * next one. Prints one line per failed input and a summary; exits 0 when
 * every input passed. Scratch files go to a directory of its own
 * ($FUZZ_TMPDIR for the target), removed at the end.
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#include "fuzz.h"

struct inputs {
	char **path;
	size_t n, cap;
};

static void
add(struct inputs *in, const char *path)
{
	if (in->n == in->cap) {
		in->cap = in->cap ? 2 * in->cap : 64;
		in->path = xrealloc(in->path, in->cap * sizeof(*in->path));
	}
	in->path[in->n++] = xstrdup(path);
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void
collect(struct inputs *in, const char *path)
{
	struct dirent **ents;
	struct stat st;
	int n;

	if (stat(path, &st) < 0) {
		printf("FAILED %s: %s\n", path, strerror(errno));
		exit(99);
	}
	if (!S_ISDIR(st.st_mode)) {
		add(in, path);
		return;
	}
	n = scandir(path, &ents, NULL, by_name);
	if (n < 0) {
		printf("FAILED %s: %s\n", path, strerror(errno));
		exit(99);
	}
	for (int i = 0; i < n; i++) {
		char *p = xasprintf("%s/%s", path, ents[i]->d_name);

		if (ents[i]->d_name[0] != '.' && stat(p, &st) == 0 &&
		    S_ISREG(st.st_mode))
			add(in, p);
		free(p);
		free(ents[i]);
	}
	free(ents);
}

static void
run_one(const char *path, unsigned secs)
{
	struct stat st;
	uint8_t *data;
	ssize_t r;
	size_t n = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		_exit(98);
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (n < (size_t)st.st_size &&
	    (r = read(fd, data + n, (size_t)st.st_size - n)) > 0)
		n += (size_t)r;
	close(fd);
	alarm(secs);
	LLVMFuzzerTestOneInput(data, n);
	alarm(0);
	free(data);
}

/* A child runs inputs from first on, writing each index before it starts. */
static size_t
child(const struct inputs *in, size_t first, unsigned secs, int *status)
{
	size_t cur = first, got;
	int p[2];
	pid_t pid;
	ssize_t r;

	if (pipe(p) < 0 || (fflush(NULL), pid = fork()) < 0) {
		perror("fork");
		exit(99);
	}
	if (pid == 0) {
		close(p[0]);
		for (size_t i = first; i < in->n; i++) {
			if (write(p[1], &i, sizeof(i)) != sizeof(i))
				_exit(97);
			run_one(in->path[i], secs);
		}
		exit(0);
	}
	close(p[1]);
	while ((r = read(p[0], &got, sizeof(got))) == sizeof(got) ||
	    (r < 0 && errno == EINTR))
		if (r > 0)
			cur = got;
	close(p[0]);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR) {
			perror("waitpid");
			exit(99);
		}
	return cur;
}

int
main(int argc, char **argv)
{
	struct inputs in = { 0 };
	const char *t = getenv("FUZZ_REPLAY_TIMEOUT");
	long secs = 60;
	size_t next = 0;
	int failed = 0, status;
	char *scratch;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 64;
	}
	if (t != NULL && util_parse_long(t, 1, 86400, &secs) < 0)
		secs = 60;
	scratch = xasprintf("%s/yubin-replay.XXXXXX", fuzz_tmpbase());
	if (mkdtemp(scratch) == NULL || setenv("FUZZ_TMPDIR", scratch, 1) < 0) {
		perror(scratch);
		return 99;
	}
	for (int i = 1; i < argc; i++)
		collect(&in, argv[i]);
	while (next < in.n) {
		size_t at = child(&in, next, (unsigned)secs, &status);

		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			break;
		failed++;
		if (WIFSIGNALED(status))
			printf("FAILED %s: %s\n", in.path[at],
			    WTERMSIG(status) == SIGALRM ? "timeout" :
			    strsignal(WTERMSIG(status)));
		else
			printf("FAILED %s: exit %d\n", in.path[at],
			    WEXITSTATUS(status));
		next = at + 1;
	}
	printf("%zu inputs, %d failed\n", in.n, failed);
	for (size_t i = 0; i < in.n; i++)
		free(in.path[i]);
	free(in.path);
	fuzz_rm_tree(scratch);
	free(scratch);
	return failed == 0 ? 0 : 1;
}
