/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vigil_peer_identify() on real sockets of this process and its children:
 * both the pidfd path and the SO_PEERCRED fallback. No root needed,
 * except for the credential-change case (skipped, with the reason,
 * without it). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "attrib/attrib.h"
#include "vigil/vigil.h"

static const unsigned modes[] = { 0, VIGIL_PEER_NO_PIDFD };

static struct vigil_ctx *ctx_new(void)
{
	struct vigil_ctx *ctx = NULL;

	assert_int_equal(vigil_ctx_new("/", &ctx), 0);
	assert_true(ctx->own_proc);
	return ctx;
}

/* A listening socket in a fresh directory; its path in @path. */
static int listener(char *path, size_t pathsz, char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, pathsz, "%s/s", dir);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

static int dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sa.sun_path, path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		_exit(3);
	return fd;
}

static void cleanup_listener(int fd, const char *path, const char *dir)
{
	close(fd);
	unlink(path);
	rmdir(dir);
}

static void test_socketpair_self(void **state)
{
	(void)state;
	struct vigil_ctx *ctx = ctx_new();
	char exe[4096], dir[64];
	/* through a /proc/<pid> handle as the library reads it (valgrind
	 * rewrites a plain readlink of /proc/self/exe) */
	snprintf(dir, sizeof(dir), "/proc/%d", (int)getpid());
	int dfd = open(dir, O_PATH | O_DIRECTORY);
	ssize_t n = readlinkat(dfd, "exe", exe, sizeof(exe) - 1);
	int sv[2];

	close(dfd);

	assert_true(n > 0);
	exe[n] = '\0';
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	for (size_t m = 0; m < 2; m++) {
		struct vigil_identity *id = NULL;

		assert_int_equal(vigil_peer_identify(sv[0], ctx, modes[m], &id), 0);
		assert_int_equal(vigil_identity_status(id), VIGIL_OK);
		assert_int_equal(vigil_identity_pid(id), getpid());
		assert_string_equal(vigil_identity_exe(id), exe);
		assert_int_equal(vigil_identity_uid(id), getuid());
		assert_string_equal(vigil_identity_peer_method(id),
				    m ? "peercred" : "pidfd");
		char *json = vigil_identity_to_json(id);

		assert_non_null(strstr(json, "\"peer\":{\"method\":"));
		free(json);
		vigil_identity_free(id);
	}
	close(sv[0]);
	close(sv[1]);
	vigil_ctx_free(ctx);
}

static void test_bad_sockets(void **state)
{
	(void)state;
	struct vigil_ctx *ctx = ctx_new();
	struct vigil_identity *id = NULL;
	int p[2], fd;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(vigil_peer_identify(p[0], ctx, 0, &id), -ENOTSOCK);
	close(p[0]);
	close(p[1]);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(vigil_peer_identify(fd, ctx, 0, &id), -EAFNOSUPPORT);
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(vigil_peer_identify(fd, ctx, 0, &id), -ENOTCONN);
	assert_int_equal(vigil_peer_identify(fd, ctx, 0x80, &id), -EINVAL);
	close(fd);
	assert_null(id);
	vigil_ctx_free(ctx);
}

/* The connecting child exits; reaped or not, it is refused, and no
 * process facts are given. */
static void check_gone(bool reap)
{
	struct vigil_ctx *ctx = ctx_new();
	char dir[] = "/tmp/vigil-peer-XXXXXX", path[128];
	int lfd = listener(path, sizeof(path), dir);

	for (size_t m = 0; m < 2; m++) {
		struct vigil_identity *id = NULL;
		pid_t c = fork();
		int afd;

		assert_true(c >= 0);
		if (c == 0) {
			dial(path);
			_exit(0);
		}
		afd = accept(lfd, NULL, NULL);
		assert_true(afd >= 0);
		if (reap) {
			assert_int_equal(waitpid(c, NULL, 0), c);
		} else {
			/* wait for the zombie */
			siginfo_t si = { 0 };

			assert_int_equal(waitid(P_PID, (id_t)c, &si,
						WEXITED | WNOWAIT), 0);
		}
		assert_int_equal(vigil_peer_identify(afd, ctx, modes[m], &id), 0);
		if (vigil_identity_status(id) != VIGIL_PEER_GONE)
			fail_msg("mode %zu reap %d: status %s: %s", m, reap,
				 vigil_status_name(vigil_identity_status(id)),
				 vigil_identity_message(id));
		assert_int_equal(vigil_identity_pid(id), c);
		assert_null(vigil_identity_exe(id));
		assert_null(vigil_identity_exec_id(id));
		assert_non_null(strstr(vigil_identity_message(id), "exited"));
		vigil_identity_free(id);
		close(afd);
		if (!reap)
			waitpid(c, NULL, 0);
	}
	cleanup_listener(lfd, path, dir);
	vigil_ctx_free(ctx);
}

static void test_gone_reaped(void **state)
{
	(void)state;
	check_gone(true);
}

static void test_gone_zombie(void **state)
{
	(void)state;
	check_gone(false);
}

/* A child that connects and then keeps running is itself, by either
 * path; a refusal by policy follows from the status alone. */
static void test_live_child_and_policy(void **state)
{
	(void)state;
	struct vigil_ctx *ctx = ctx_new();
	char dir[] = "/tmp/vigil-peer-XXXXXX", path[128], why[256];
	int lfd = listener(path, sizeof(path), dir), go[2];
	struct vigil_policy *pol = NULL;
	static const char rules[] = "deny user.uid = 4000000\nallow\n";

	assert_int_equal(vigil_policy_parse(rules, sizeof(rules) - 1, "t",
					    &pol, why, sizeof(why)),
			 0);
	for (size_t m = 0; m < 2; m++) {
		struct vigil_identity *id = NULL;
		pid_t c;
		int afd;

		assert_int_equal(pipe(go), 0);
		c = fork();
		assert_true(c >= 0);
		if (c == 0) {
			char b;

			close(go[1]);
			dial(path);
			(void)!read(go[0], &b, 1);
			_exit(0);
		}
		close(go[0]);
		afd = accept(lfd, NULL, NULL);
		assert_int_equal(vigil_peer_identify(afd, ctx, modes[m], &id), 0);
		assert_int_equal(vigil_identity_status(id), VIGIL_OK);
		assert_int_equal(vigil_identity_pid(id), c);
		assert_true(vigil_policy_allows(pol, id, why, sizeof(why)));
		assert_non_null(strstr(why, "line 2"));
		close(go[1]);
		waitpid(c, NULL, 0);
		vigil_identity_free(id);
		close(afd);
	}
	vigil_policy_free(pol);
	cleanup_listener(lfd, path, dir);
	vigil_ctx_free(ctx);
}

/* Connect as root, then become uid/gid 65534: refused as changed. */
static void test_creds_changed(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		printf("SKIP: the credential-change case needs root (setresuid)\n");
		skip();
	}
	struct vigil_ctx *ctx = ctx_new();
	char dir[] = "/tmp/vigil-peer-XXXXXX", path[128];
	int lfd = listener(path, sizeof(path), dir);

	for (size_t m = 0; m < 2; m++) {
		struct vigil_identity *id = NULL;
		int ready[2], go[2], afd;
		pid_t c;
		char b;

		assert_int_equal(pipe(ready), 0);
		assert_int_equal(pipe(go), 0);
		c = fork();
		assert_true(c >= 0);
		if (c == 0) {
			close(ready[0]);
			close(go[1]);
			dial(path);
			if (setresgid(65534, 65534, 65534) < 0 ||
			    setresuid(65534, 65534, 65534) < 0)
				_exit(4);
			(void)!write(ready[1], "r", 1);
			(void)!read(go[0], &b, 1);
			_exit(0);
		}
		close(ready[1]);
		close(go[0]);
		assert_int_equal(read(ready[0], &b, 1), 1);
		afd = accept(lfd, NULL, NULL);
		assert_int_equal(vigil_peer_identify(afd, ctx, modes[m], &id), 0);
		assert_int_equal(vigil_identity_status(id), VIGIL_PEER_CHANGED);
		assert_non_null(strstr(vigil_identity_message(id), "65534"));
		assert_null(vigil_identity_exe(id));
		close(go[1]);
		close(ready[0]);
		waitpid(c, NULL, 0);
		vigil_identity_free(id);
		close(afd);
	}
	cleanup_listener(lfd, path, dir);
	vigil_ctx_free(ctx);
}

/* A context over another /proc cannot look up socket peers. */
static void test_foreign_proc(void **state)
{
	(void)state;
	const char *fx = getenv("VIGIL_FIXTURES");
	char root[4096];
	struct vigil_ctx *ctx = NULL;
	struct vigil_identity *id = NULL;
	int sv[2];

	if (!fx) {
		printf("SKIP: VIGIL_FIXTURES is not set\n");
		skip();
	}
	snprintf(root, sizeof(root), "%s/host-v2", fx);
	if (vigil_ctx_new(root, &ctx) < 0) {
		printf("SKIP: no fixture root %s\n", root);
		skip();
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(vigil_peer_identify(sv[0], ctx, 0, &id), 0);
	assert_int_equal(vigil_identity_status(id), VIGIL_ERROR);
	assert_non_null(strstr(vigil_identity_message(id), "not this process's"));
	vigil_identity_free(id);
	close(sv[0]);
	close(sv[1]);
	vigil_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socketpair_self),
		cmocka_unit_test(test_bad_sockets),
		cmocka_unit_test(test_gone_reaped),
		cmocka_unit_test(test_gone_zombie),
		cmocka_unit_test(test_live_child_and_policy),
		cmocka_unit_test(test_creds_changed),
		cmocka_unit_test(test_foreign_proc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
