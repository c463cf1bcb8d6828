/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_FLEET_FLEET_H
#define VG_FLEET_FLEET_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "filter/filter.h"
#include "render/printer.h"

/*
 * The fleet: the events every node's daemon exports to NATS JetStream
 * (subjects "<prefix>.<node>.<type>", one exported record a message: an
 * event's JSON with "node", "sensor" and "seq" first), read back in one
 * place.
 */

/* ---- one record (record.c) ---- */

/* What the filter's getter reads: a parsed record, and scratch space
 * for the fields made from several members (proc.args). */
struct vg_fleet_rec {
	const json_t *j;
	char *scratch;
	size_t cap;
};

/* A vg_filter_get_fn over @ctx, a struct vg_fleet_rec: the filter's
 * fields are the JSON's dotted paths, with the engine's rules (a
 * container's name, image and labels, and its pod, only when its claim
 * is verified). */
int vg_fleet_get_field(void *ctx, int field_id, const char *key,
		       size_t key_len, struct vg_fval *ret);

void vg_fleet_rec_release(struct vg_fleet_rec *r);

/* @j as vigil watch's text line, with "node=NODE" after the type, into
 * @l (a text printer; begun here). The layout is the renderer's
 * (render/event.h); what a record does not carry is left out. */
void vg_fleet_render_text(const json_t *j, struct vg_printer *l);

/* RFC 3339 ("2026-12-06T17:39:42.574774Z", fraction and offset
 * optional) into ns since the epoch. 0, or -EINVAL. */
int vg_fleet_parse_time(const char *s, int64_t *ret_ns);

/* ---- the subscriber (fleet.c) ---- */

struct vg_fleet_conn_opts {
	const char *urls;      /* comma-separated nats:// or tls:// */
	const char *creds, *tls_ca, *tls_cert, *tls_key;
};

struct vg_fleet_watch_opts {
	struct vg_fleet_conn_opts conn;
	const char *prefix;    /* subjects' first token: "vigil" */
	const char *stream;    /* the stream (durable readers): "VIGIL" */
	const char *const *nodes; /* subject-safe node names; none: all */
	size_t n_nodes;
	const char *const *types; /* event type names; none: all */
	size_t n_types;
	/* a container: only records with this node and container.id */
	const char *container_node, *container_id;
	const struct vg_filter *filter;
	const char *durable;   /* a durable pull consumer; NULL: ordered */
	bool from_given;       /* else: new records only */
	uint64_t from_seq;     /* a stream sequence, or */
	int64_t from_time_ns;  /* a time (when from_seq is 0) */
	bool alerts;           /* records of type "alert" too (a daemon's
				* rules); else they are left out */
	enum vg_output_mode mode;
	uint64_t max_count, duration_ms;
	volatile sig_atomic_t *stop;
	FILE *out;
	/* called once subscribed */
	void (*subscribed)(void *ctx, const char *subject);
	void *ctx;
};

/* Print the records @o asks for until @o->stop, the count or the
 * duration. *@ret_printed: how many. 0, or -errno with @err. */
int vg_fleet_watch(const struct vg_fleet_watch_opts *o, uint64_t *ret_printed,
		   char *err, size_t errsz);

/* The bucket where each node's daemon keeps its running containers:
 * key "<node token>.<container id>", value {id, runtime, name, image,
 * labels, pod{namespace,name,uid}, init_pid, node, verified}. */
#define VG_FLEET_BUCKET "vigil_containers"

/* Every node's containers: *@ret, a JSON array of the entries, each with
 * its "key" added, sorted by node and name. Caller json_decref()s.
 * 0, or -errno with @err. */
int vg_fleet_containers(const struct vg_fleet_conn_opts *c, json_t **ret,
			char *err, size_t errsz);

/* The one container @ref names among @list (vg_fleet_containers()): a
 * full id, a unique id prefix, or a name. 0 with *@ret_node (the node's
 * subject token) and *@ret_id, pointing into @list; -ENOENT, or
 * -ENOTUNIQ (names on several nodes), with @err. */
int vg_fleet_find_container(const json_t *list, const char *ref,
			    const char **ret_node, size_t *ret_node_len,
			    const char **ret_id, char *err, size_t errsz);

/* A subject token of @s: only [A-Za-z0-9_-], others '_' (as the
 * exporting daemon makes its node's). Caller frees. */
char *vg_fleet_subject_token(const char *s);

#endif
