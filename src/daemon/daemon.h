/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_DAEMON_DAEMON_H
#define VG_DAEMON_DAEMON_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/engine.h"

/*
 * vigil daemon: one engine, many subscribers. Newline-delimited JSON over
 * a Unix socket; each client may hold several subscriptions (a filter,
 * event types, a container selection, a path, a form), each an engine
 * sink. The kernel traces the union of what they ask for, and sheds what
 * none of them selects.
 *
 * One thread: the engine's fds, the listening socket and every client
 * are in one epoll set. A client's output is a bounded queue; a client
 * that does not read loses its own events (counted, and announced with a
 * lost record when it reads again), never anyone else's.
 */

#define VG_DAEMON_PROTOCOL 1
#define VG_DAEMON_SOCKET "/run/vigil/vigil.sock"
#define VG_DAEMON_LINE_MAX (1u << 20)  /* one request */
#define VG_DAEMON_QUEUE_MAX (4u << 20) /* a client's unsent output: no line
					* is longer */
#define VG_DAEMON_QUEUE_HARD (64u << 20) /* past it, a client goes */
#define VG_DAEMON_REPLY_MAX (32u << 20) /* one answer */
#define VG_DAEMON_CLIENTS_MAX 2048
#define VG_DAEMON_CLIENTS_PER_UID 64   /* default */
#define VG_DAEMON_IDLE_TIMEOUT_S 60    /* default, without a subscription */
#define VG_DAEMON_SUBS_MAX 64           /* per client */
#define VG_DAEMON_SUBS_TOTAL 4096       /* all clients */
#define VG_DAEMON_SUB_BYTES_MAX (64u << 20) /* filters and selections */
#define VG_DAEMON_SUB_RATE 20           /* changes a second, per client */
#define VG_DAEMON_SUB_BURST 40
#define VG_DAEMON_REQS_PER_TURN 32      /* a client's, per loop turn */
#define VG_DAEMON_ALLOW_MAX 64

/* What the limits refused or cut, for `stats`. */
struct vg_daemon_limit_stats {
	uint64_t refused_per_uid, idle_closed, refused_subscriptions,
		rate_limited, paused_reading, disconnected_slow,
		replies_too_large, accept_paused;
	uint64_t loop_max_ns, loop_over_100ms; /* the loop's longest pause */
};

struct vg_daemon_opts {
	int listen_fd;        /* a listening Unix socket, the caller's to make */
	gid_t gid;            /* members may connect (0: none) */
	const char *group_name;
	const uid_t *allow_uid;
	size_t n_allow_uid;
	const gid_t *allow_gid;
	size_t n_allow_gid;
	unsigned clients_per_uid; /* 0: no cap but the total */
	unsigned idle_timeout_s;  /* 0: none */
	/* Called from the loop every @tick_ms or a little later (0: never),
	 * for a service manager's watchdog: that it is called shows the
	 * loop turns. It must not block. */
	void (*tick)(void *arg);
	void *tick_arg;
	unsigned tick_ms;
	/* Events wait until this many subscriptions are in (0: they flow
	 * at once): a replay that each subscriber should see whole. */
	unsigned hold_subs;
};

struct vg_daemon;

/* Serve @en's events on @o->listen_fd (both stay the caller's). NULL
 * with @err on failure. */
struct vg_daemon *vg_daemon_new(struct vg_engine *en,
				const struct vg_daemon_opts *o, char *err,
				size_t errsz);
/* Until *@stop is set (a signal handler's) or the engine fails. Returns
 * 0, or -errno. */
int vg_daemon_run(struct vg_daemon *d, volatile sig_atomic_t *stop);
/* Closes every client. */
void vg_daemon_free(struct vg_daemon *d);

const char *vg_daemon_sensor_id(const struct vg_daemon *d);
struct vg_engine *vg_daemon_engine(const struct vg_daemon *d);

/* What the daemon counts, for stats, metrics and the service manager. */
struct vg_daemon_stats {
	uint64_t delivered;      /* events queued to subscribers */
	uint64_t dropped;        /* lost to full subscriber queues */
	uint64_t refused;        /* connections refused */
	uint64_t requests, bad_requests;
	size_t clients, subscriptions;
	uint64_t start_wall_ns;  /* when it was made, CLOCK_REALTIME */
	struct vg_daemon_limit_stats lim;
};
void vg_daemon_stats(const struct vg_daemon *d, struct vg_daemon_stats *ret);

/* One subscription, as metrics label it: the daemon's client limit
 * bounds how many there are. */
struct vg_daemon_sub_info {
	uint64_t id;
	uid_t uid;               /* its client's, from SO_PEERCRED */
	pid_t pid;
	uint64_t delivered, lost;
};
/* Call @fn for each subscription; a non-zero return stops it and is
 * returned. */
int vg_daemon_foreach_sub(const struct vg_daemon *d,
			  int (*fn)(const struct vg_daemon_sub_info *s, void *ctx),
			  void *ctx);

/*
 * Another fd on the daemon's loop, served on its thread (what it reads of
 * the daemon needs no lock): @fn runs at the loop's first turn, when @fd
 * is readable, and when the wait it last returned is over; it returns the next wait in ms (-1:
 * none, only when @fd is readable). Both stay the caller's and must
 * outlive the daemon's loop. Returns 0, -E2BIG past VG_DAEMON_WATCH_MAX,
 * or -errno.
 */
#define VG_DAEMON_WATCH_MAX 24 /* metrics, and an export each */
typedef int (*vg_daemon_watch_fn)(void *ctx);
int vg_daemon_watch(struct vg_daemon *d, int fd, vg_daemon_watch_fn fn,
		    void *ctx);

/* The exports whose records `stats` shows (the caller's, kept until
 * the daemon is freed; NULL: none). */
struct vg_exports;
void vg_daemon_set_exports(struct vg_daemon *d, struct vg_exports *x);
const struct vg_exports *vg_daemon_exports(const struct vg_daemon *d);

/*
 * Falco's rules (src/rules/), evaluated once per event in the daemon,
 * whatever the subscribers: the union of their event types is traced
 * like a subscription's (and, selecting every container, keeps the
 * kernel from shedding those types). Each rule an event matches (the
 * first, as Falco's rule_matching: first) is an alert, an event type of
 * its own ("alert"): to the subscriptions and exports that ask for it
 * and whose selection, path and filter take the event that matched (in
 * that filter evt.type is "alert"). @rs replaces the rules there were
 * (NULL: none); the daemon owns it from here on, even on failure.
 * Returns 0, or -errno with @err (the old rules are gone then too).
 */
struct vg_ruleset;
int vg_daemon_set_rules(struct vg_daemon *d, struct vg_ruleset *rs, char *err,
			size_t errsz);
bool vg_daemon_has_rules(const struct vg_daemon *d);

#define VG_DAEMON_PRIORITIES 8 /* Falco's, enum vg_rule_priority */
struct vg_daemon_rules_stats {
	bool loaded;
	/* of the rules loaded now */
	size_t rules, accepted, refused, skipped, disabled;
	uint64_t loads;           /* rule sets taken (the start's, reloads) */
	uint64_t alerts[VG_DAEMON_PRIORITIES]; /* by priority, since the start */
	uint64_t alerts_total;
	uint64_t errors;          /* alerts made without a value or the
				   * message (out of memory) */
	uint64_t dropped;         /* not made at all (out of memory) */
};
void vg_daemon_rules_stats(const struct vg_daemon *d,
			   struct vg_daemon_rules_stats *ret);

/* Totals for a status line (the `stats` request has the detail). */
struct vg_daemon_counts {
	uint64_t events;      /* dispatched, every type */
	uint64_t kernel_lost; /* the source's losses, every type */
	uint64_t queue_lost;  /* dropped from subscribers' queues */
	size_t clients;
};
void vg_daemon_counts(const struct vg_daemon *d, struct vg_daemon_counts *ret);

#endif
