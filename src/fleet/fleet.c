/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fleet subscriber: every node's exported records from JetStream,
 * through an ordered consumer (nothing kept on the server, a gap or a
 * reconnect mended by the library) or a durable pull consumer (the
 * server keeps where a named reader stopped).
 *
 * A consumer of this server version takes one subject filter, so the
 * subject asked for is the narrowest one that covers every node and
 * type wanted ("vigil.node-1.>", "vigil.*.exec"); what it lets through
 * beyond them is dropped here, by the subject's tokens, unparsed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "base/util.h"
#include "fleet/fleet.h"
#include "fleet/nats_error.h"

#define FLEET_FETCH 256

/* A connection as @o says; the library is open. */
static int fleet_connect(const struct vg_fleet_conn_opts *o, natsConnection **ret,
			 char *err, size_t errsz)
{
	natsOptions *opts = NULL;
	char *copy = strdup(o->urls ? o->urls : ""), *save = NULL;
	const char *urls[32];
	int n = 0, r = 0;
	natsStatus ns;

	if (!copy)
		return -ENOMEM;
	for (char *u = strtok_r(copy, ",", &save); u && n < 32;
	     u = strtok_r(NULL, ",", &save)) {
		while (*u == ' ')
			u++;
		if (!*u)
			continue;
		if (!vg_startswith(u, "nats://") && !vg_startswith(u, "tls://")) {
			vg_set_err(err, errsz, "--nats: \"%s\" is not a nats:// or tls:// URL", u);
			free(copy);
			return -EINVAL;
		}
		urls[n++] = u;
	}
	if (n == 0) {
		vg_set_err(err, errsz, "--nats: no server URL");
		free(copy);
		return -EINVAL;
	}
	ns = natsOptions_Create(&opts);
	if (ns == NATS_OK)
		ns = natsOptions_SetServers(opts, urls, n);
	if (ns == NATS_OK)
		ns = natsOptions_SetTimeout(opts, 3000);
	if (ns == NATS_OK)
		ns = natsOptions_SetName(opts, "vigil-fleet");
	if (ns == NATS_OK)
		ns = natsOptions_SetMaxReconnect(opts, -1);
	if (ns == NATS_OK)
		ns = natsOptions_SetReconnectWait(opts, 500);
	if (ns == NATS_OK && o->creds)
		ns = natsOptions_SetUserCredentialsFromFiles(opts, o->creds, NULL);
	if (ns == NATS_OK && (o->tls_ca || o->tls_cert))
		ns = natsOptions_SetSecure(opts, true);
	if (ns == NATS_OK && o->tls_ca)
		ns = natsOptions_LoadCATrustedCertificates(opts, o->tls_ca);
	if (ns == NATS_OK && o->tls_cert)
		ns = natsOptions_LoadCertificatesChain(opts, o->tls_cert, o->tls_key);
	if (ns != NATS_OK) {
		vg_set_err(err, errsz, "nats options: %s", vg_nats_error(ns));
		r = -EINVAL;
		goto out;
	}
	ns = natsConnection_Connect(ret, opts);
	if (ns != NATS_OK) {
		vg_set_err(err, errsz, "nats %s: %s", o->urls, vg_nats_error(ns));
		r = -ECONNREFUSED;
	}
out:
	natsOptions_Destroy(opts);
	free(copy);
	return r;
}

static bool in_list(const char *s, size_t len, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(v[i]) == len && memcmp(v[i], s, len) == 0)
			return true;
	return false;
}

struct fleet {
	const struct vg_fleet_watch_opts *o;
	struct vg_printer *text;
	struct vg_fleet_rec rec;
	uint64_t printed, unreadable;
	size_t prefix_len;
	bool need_json;
};

/* One message: printed or not. */
static void handle(struct fleet *f, natsMsg *m)
{
	const struct vg_fleet_watch_opts *o = f->o;
	const char *subj = natsMsg_GetSubject(m);
	const char *data = natsMsg_GetData(m);
	int len = natsMsg_GetDataLength(m);
	const char *node, *type, *dot;
	size_t node_len;
	json_t *j = NULL;
	bool lost;

	if (!subj || !data || len <= 0 || strlen(subj) <= f->prefix_len + 1)
		return;
	/* <prefix>.<node>.<type> */
	node = subj + f->prefix_len + 1;
	dot = strchr(node, '.');
	if (!dot)
		return;
	node_len = (size_t)(dot - node);
	type = dot + 1;
	lost = strcmp(type, "lost") == 0;
	/* alerts are no events: only when asked for */
	if (!o->alerts && strcmp(type, "alert") == 0)
		return;
	if (o->n_nodes > 1 && !in_list(node, node_len, o->nodes, o->n_nodes))
		return;
	if (o->container_node && (strlen(o->container_node) != node_len ||
				  memcmp(o->container_node, node, node_len)))
		return;
	/* a lost record says a gap in what was asked for: always shown */
	if (!lost && o->n_types > 1 && !in_list(type, strlen(type), o->types, o->n_types))
		return;
	if (f->need_json || lost) {
		json_error_t je;
		j = json_loadb(data, (size_t)len, JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(j)) {
			f->unreadable++;
			json_decref(j);
			return;
		}
		f->rec.j = j;
		if (!lost && o->container_id) {
			const char *cid = json_string_value(
				json_object_get(json_object_get(j, "container"), "id"));
			if (!cid || strcmp(cid, o->container_id) != 0)
				goto out;
		}
		if (!lost && o->filter &&
		    !vg_filter_match(o->filter, vg_fleet_get_field, &f->rec))
			goto out;
	}
	if (o->mode == VG_OUTPUT_JSON) {
		fwrite(data, 1, (size_t)len, o->out);
		fputc('\n', o->out);
	} else {
		size_t n;
		const char *line;
		vg_fleet_render_text(j, f->text);
		line = vg_pr_end_view(f->text, &n);
		if (line) {
			fwrite(line, 1, n, o->out);
			fputc('\n', o->out);
		}
	}
	if (!lost)
		f->printed++;
out:
	f->rec.j = NULL;
	json_decref(j);
}

static bool done(const struct fleet *f, uint64_t start)
{
	const struct vg_fleet_watch_opts *o = f->o;

	return (o->stop && *o->stop) || (o->max_count && f->printed >= o->max_count) ||
	       (o->duration_ms && vg_clock_ns(CLOCK_MONOTONIC) - start >=
					   o->duration_ms * 1000000ull);
}

int vg_fleet_watch(const struct vg_fleet_watch_opts *o, uint64_t *ret_printed,
		   char *err, size_t errsz)
{
	struct fleet f = { .o = o };
	natsConnection *nc = NULL;
	natsSubscription *sub = NULL;
	jsCtx *js = NULL;
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus ns;
	char subject[512];
	const char *prefix = o->prefix ? o->prefix : "vigil";
	const char *node_tok = o->n_nodes == 1 ? o->nodes[0]
			       : o->container_node ? o->container_node : "*";
	uint64_t start = vg_clock_ns(CLOCK_MONOTONIC);
	int r = 0;

	*ret_printed = 0;
	f.prefix_len = strlen(prefix);
	f.need_json = o->mode == VG_OUTPUT_TEXT || o->filter || o->container_id;
	if (o->n_types == 1)
		snprintf(subject, sizeof(subject), "%s.%s.%s", prefix, node_tok, o->types[0]);
	else if (strcmp(node_tok, "*") != 0)
		snprintf(subject, sizeof(subject), "%s.%s.>", prefix, node_tok);
	else
		snprintf(subject, sizeof(subject), "%s.>", prefix);
	if (o->mode == VG_OUTPUT_TEXT && !(f.text = vg_printer_new(VG_OUTPUT_TEXT)))
		return -ENOMEM;
	if (nats_Open(-1) != NATS_OK) {
		vg_printer_free(f.text);
		vg_set_err(err, errsz, "nats: the library could not start");
		return -ENOMEM;
	}
	r = fleet_connect(&o->conn, &nc, err, errsz);
	if (r < 0)
		goto out;
	ns = natsConnection_JetStream(&js, nc, NULL);
	if (ns != NATS_OK) {
		vg_set_err(err, errsz, "jetstream: %s", vg_nats_error(ns));
		r = -EIO;
		goto out;
	}
	jsSubOptions_Init(&so);
	so.Config.DeliverPolicy = js_DeliverNew;
	if (o->from_given && o->from_seq) {
		so.Config.DeliverPolicy = js_DeliverByStartSequence;
		so.Config.OptStartSeq = o->from_seq;
	} else if (o->from_given) {
		so.Config.DeliverPolicy = js_DeliverByStartTime;
		so.Config.OptStartTime = o->from_time_ns;
	}
	if (o->durable) {
		jsConsumerInfo *ci = NULL;
		const char *stream = o->stream ? o->stream : "VIGIL";

		ns = js_GetConsumerInfo(&ci, js, stream, o->durable, NULL, &jerr);
		if (ns == NATS_OK) {
			/* it exists: resume where it is, as it was made */
			if (o->from_given) {
				jsConsumerInfo_Destroy(ci);
				vg_set_err(err, errsz, "--durable %s exists: it resumes where it "
					   "stopped; --from is for a new one", o->durable);
				r = -EEXIST;
				goto out;
			}
			jsSubOptions_Init(&so);
			so.Stream = stream;
			so.Consumer = o->durable;
			if (ci->Config && ci->Config->FilterSubject &&
			    strcmp(ci->Config->FilterSubject, subject) != 0) {
				vg_set_err(err, errsz, "--durable %s reads %s, not %s: the "
					   "nodes and types of a durable reader stay as made",
					   o->durable, ci->Config->FilterSubject, subject);
				jsConsumerInfo_Destroy(ci);
				r = -EINVAL;
				goto out;
			}
			jsConsumerInfo_Destroy(ci);
		} else if (ns != NATS_NOT_FOUND) {
			vg_set_err(err, errsz, "stream %s: %s", stream, vg_nats_error(ns));
			r = -EIO;
			goto out;
		}
		so.Config.AckPolicy = js_AckExplicit;
	} else {
		so.Ordered = true;
	}
	/* a cluster that just lost a node may take a while to place a
	 * consumer: a timeout is tried again, a few times */
	for (int t = 0; t < 4; t++) {
		ns = o->durable ? js_PullSubscribe(&sub, js, subject, o->durable, NULL, &so, &jerr)
				: js_SubscribeSync(&sub, js, subject, NULL, &so, &jerr);
		if (ns != NATS_TIMEOUT || (o->stop && *o->stop))
			break;
	}
	if (ns != NATS_OK) {
		vg_set_err(err, errsz, "subscribing to %s: %s", subject, vg_nats_error(ns));
		r = ns == NATS_NOT_FOUND ? -ENOENT : -EIO;
		goto out;
	}
	if (o->subscribed)
		o->subscribed(o->ctx, subject);
	while (!done(&f, start)) {
		if (o->durable) {
			natsMsgList list = { 0 };
			int want = FLEET_FETCH;
			/* no more than --count needs: what is fetched and not
			 * printed is handed back, but a whole batch would be a
			 * burst of redeliveries for the next reader */
			if (o->max_count && o->max_count - f.printed < (uint64_t)want)
				want = (int)(o->max_count - f.printed);
			ns = natsSubscription_Fetch(&list, sub, want, 500, &jerr);
			if (ns == NATS_OK) {
				for (int i = 0; i < list.Count; i++) {
					if (done(&f, start)) {
						/* for the next run, at once */
						natsMsg_Nak(list.Msgs[i], NULL);
						continue;
					}
					handle(&f, list.Msgs[i]);
					natsMsg_Ack(list.Msgs[i], NULL);
				}
				natsMsgList_Destroy(&list);
				fflush(o->out);
			} else if (ns != NATS_TIMEOUT && ns != NATS_CONNECTION_DISCONNECTED &&
				   ns != NATS_NOT_FOUND) {
				vg_set_err(err, errsz, "reading %s: %s", subject, vg_nats_error(ns));
				r = -EIO;
				break;
			}
		} else {
			natsMsg *m = NULL;
			ns = natsSubscription_NextMsg(&m, sub, 500);
			if (ns == NATS_OK) {
				handle(&f, m);
				natsMsg_Destroy(m);
				/* a burst is flushed once it is over */
				uint64_t q = 0;
				if (natsSubscription_QueuedMsgs(sub, &q) == NATS_OK && q == 0)
					fflush(o->out);
			} else if (ns == NATS_TIMEOUT) {
				fflush(o->out);
			} else if (ns != NATS_CONNECTION_DISCONNECTED) {
				vg_set_err(err, errsz, "reading %s: %s", subject, vg_nats_error(ns));
				r = -EIO;
				break;
			}
		}
	}
	fflush(o->out);
out:
	*ret_printed = f.printed;
	if (f.unreadable && r == 0)
		vg_set_err(err, errsz, "%" PRIu64 " messages were not vigil's records "
			   "(no JSON object): skipped", f.unreadable);
	/* the connection first: its reader thread stops before the
	 * subscription goes (an ordered consumer's messages still coming
	 * in while it is destroyed crash libnats 3.4) */
	if (nc)
		natsConnection_Close(nc);
	natsSubscription_Destroy(sub);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	vg_fleet_rec_release(&f.rec);
	vg_printer_free(f.text);
	nats_Close();
	return r;
}

/* ---- the fleet's containers ---- */

static int by_node_name(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(json_string_value(json_object_get(x, "key")) ?: "",
		       json_string_value(json_object_get(y, "key")) ?: "");
	return c;
}

int vg_fleet_containers(const struct vg_fleet_conn_opts *c, json_t **ret,
			char *err, size_t errsz)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	kvStore *kv = NULL;
	kvKeysList keys = { 0 };
	json_t *arr = json_array();
	json_t **v = NULL;
	natsStatus ns;
	int r = 0;

	if (!arr)
		return -ENOMEM;
	if (nats_Open(-1) != NATS_OK) {
		json_decref(arr);
		vg_set_err(err, errsz, "nats: the library could not start");
		return -ENOMEM;
	}
	r = fleet_connect(c, &nc, err, errsz);
	if (r < 0)
		goto out;
	ns = natsConnection_JetStream(&js, nc, NULL);
	if (ns == NATS_OK)
		ns = js_KeyValue(&kv, js, VG_FLEET_BUCKET);
	if (ns == NATS_NOT_FOUND)
		goto done; /* no node has said any */
	if (ns == NATS_OK)
		ns = kvStore_Keys(&keys, kv, NULL);
	if (ns == NATS_NOT_FOUND)
		goto done;
	if (ns != NATS_OK) {
		vg_set_err(err, errsz, "bucket %s: %s", VG_FLEET_BUCKET, vg_nats_error(ns));
		r = -EIO;
		goto out;
	}
	for (int i = 0; i < keys.Count; i++) {
		kvEntry *e = NULL;
		json_t *o;

		if (kvStore_Get(&e, kv, keys.Keys[i]) != NATS_OK)
			continue; /* gone meanwhile */
		o = json_loadb(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), 0, NULL);
		kvEntry_Destroy(e);
		if (!json_is_object(o)) {
			json_decref(o);
			continue;
		}
		json_object_set_new(o, "key", json_string(keys.Keys[i]));
		json_array_append_new(arr, o);
	}
done:
	/* sorted: the keys start with the node */
	if (json_array_size(arr) > 1) {
		size_t n = json_array_size(arr);
		v = calloc(n, sizeof(*v));
		if (v) {
			for (size_t i = 0; i < n; i++)
				v[i] = json_incref(json_array_get(arr, i));
			qsort(v, n, sizeof(*v), by_node_name);
			json_array_clear(arr);
			for (size_t i = 0; i < n; i++)
				json_array_append_new(arr, v[i]);
			free(v);
		}
	}
	*ret = arr;
	arr = NULL;
out:
	json_decref(arr);
	kvKeysList_Destroy(&keys);
	kvStore_Destroy(kv);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	nats_Close();
	return r;
}

int vg_fleet_find_container(const json_t *list, const char *ref,
			    const char **ret_node, size_t *ret_node_len,
			    const char **ret_id, char *err, size_t errsz)
{
	const json_t *o, *hit = NULL;
	size_t i, n = 0, rl = strlen(ref);

	/* a full id or a name first, then a unique prefix */
	for (int pass = 0; pass < 2 && !n; pass++)
		json_array_foreach(list, i, o) {
			const char *id = json_string_value(json_object_get(o, "id"));
			const char *name = json_string_value(json_object_get(o, "name"));
			bool m = pass == 0 ? (id && !strcmp(id, ref)) || (name && !strcmp(name, ref))
					   : id && rl >= 3 && !strncmp(id, ref, rl);
			if (!m)
				continue;
			if (n++ == 0)
				hit = o;
		}
	if (n == 0) {
		vg_set_err(err, errsz, "no node lists a container '%s'", ref);
		return -ENOENT;
	}
	if (n > 1) {
		vg_set_err(err, errsz, "'%s' names %zu containers (on nodes' lists): "
			   "give its id", ref, n);
		return -ENOTUNIQ;
	}
	const char *key = json_string_value(json_object_get(hit, "key"));
	const char *dot = key ? strchr(key, '.') : NULL;
	if (!dot) {
		vg_set_err(err, errsz, "container '%s': an entry without its node", ref);
		return -EBADMSG;
	}
	*ret_node = key;
	*ret_node_len = (size_t)(dot - key);
	*ret_id = json_string_value(json_object_get(hit, "id"));
	return 0;
}
