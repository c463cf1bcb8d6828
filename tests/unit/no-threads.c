/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LD_PRELOAD shim for test-cli.sh: no thread can be created, as on a
 * host out of tasks, so vigil pid --all must answer on its own thread. */
#include <errno.h>
#include <pthread.h>

int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
		   void *(*start)(void *), void *arg)
{
	(void)thread;
	(void)attr;
	(void)start;
	(void)arg;
	return EAGAIN;
}
