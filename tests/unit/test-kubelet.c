/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kubelet /pods: the PodList parser on a recorded list and on hostile
 * ones, container lookup, copies, and the client's local failures. The
 * HTTP(S) paths are in tests/kubelet/test-kubelet-http.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "k8s/kubelet.h"
#include "base/util.h"

#define ID_A "4f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f"
#define ID_B "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"

/* The tests' buffers are large; running out is the harness's failure. */
static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	return p;
}

static char *load_fixture(const char *name, size_t *ret_len)
{
	const char *base = getenv("VIGIL_FIXTURES");
	char path[4096];
	char *buf = NULL;
	bool truncated = true;

	assert_non_null(base);
	snprintf(path, sizeof(path), "%s/kubelet/%s", base, name);
	assert_int_equal(vg_read_file_at(AT_FDCWD, path, 1 << 20, &buf, ret_len,
					 &truncated),
			 0);
	assert_false(truncated);
	return buf;
}

static const struct vg_pod_info *find_pod(const struct vg_pod_list *l,
					  const char *uid)
{
	for (size_t i = 0; i < l->n_pods; i++)
		if (strcmp(l->pods[i].uid, uid) == 0)
			return &l->pods[i];
	return NULL;
}

/* The recorded list: one line per container status it holds. */
static const struct {
	const char *pod_uid;
	const char *name;
	const char *runtime; /* NULL: none */
	const char *id;      /* NULL: none */
} fixture_containers[] = {
	{ "8d5e7f3a2b1c4d6e9f0a1b2c3d4e5f60", "kube-apiserver", "containerd",
	  "3f1c9a0b7d2e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c" },
	{ "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "log-shipper", "containerd", ID_B },
	{ "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "nginx", "containerd", ID_A },
	{ "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "init-config", "containerd",
	  "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90" },
	{ "6b3e9d2a-1c4f-4e8b-9a7d-2f5c8e1b3a6d", "kube-rbac-proxy", NULL, NULL },
	{ "6b3e9d2a-1c4f-4e8b-9a7d-2f5c8e1b3a6d", "node-exporter", "cri-o",
	  "5c7e1d2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d" },
	{ "6b3e9d2a-1c4f-4e8b-9a7d-2f5c8e1b3a6d", "debugger-7kq2w", "cri-o",
	  "0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c" },
};

static const struct {
	const char *uid, *ns, *name, *qos;
	size_t n_labels, n_annotations, n_containers;
} fixture_pods[] = {
	{ "8d5e7f3a2b1c4d6e9f0a1b2c3d4e5f60", "kube-system",
	  "kube-apiserver-node-1", "Burstable", 2, 4, 1 },
	{ "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "default",
	  "web-7c5ddbdf54-x9k2p", "Guaranteed", 3, 3, 3 },
	{ "6b3e9d2a-1c4f-4e8b-9a7d-2f5c8e1b3a6d", "monitoring",
	  "node-exporter-4xk2z", "BestEffort", 3, 2, 3 },
};

static void test_fixture(void **state)
{
	struct vg_pod_list l = { 0 };
	char err[256] = "";
	size_t len;
	char *buf = load_fixture("podlist.json", &len);

	(void)state;
	assert_int_equal(vg_kubelet_parse_podlist(buf, len, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n_pods, VG_ARRAY_SIZE(fixture_pods));
	for (size_t i = 0; i < VG_ARRAY_SIZE(fixture_pods); i++) {
		const struct vg_pod_info *p = &l.pods[i];

		/* list order is kept */
		assert_string_equal(p->uid, fixture_pods[i].uid);
		assert_string_equal(p->ns, fixture_pods[i].ns);
		assert_string_equal(p->name, fixture_pods[i].name);
		assert_string_equal(p->qos_class, fixture_pods[i].qos);
		assert_int_equal(p->labels.n, fixture_pods[i].n_labels);
		assert_int_equal(p->annotations.n, fixture_pods[i].n_annotations);
		assert_int_equal(p->n_containers, fixture_pods[i].n_containers);
	}
	for (size_t i = 0; i < VG_ARRAY_SIZE(fixture_containers); i++) {
		const struct vg_pod_info *p =
			find_pod(&l, fixture_containers[i].pod_uid);
		const struct vg_pod_container *c = NULL;

		assert_non_null(p);
		for (size_t j = 0; j < p->n_containers; j++)
			if (strcmp(p->containers[j].name, fixture_containers[i].name) == 0)
				c = &p->containers[j];
		assert_non_null(c);
		if (fixture_containers[i].id) {
			assert_string_equal(c->id, fixture_containers[i].id);
			assert_string_equal(c->runtime, fixture_containers[i].runtime);
			assert_ptr_equal(vg_pod_find_container(p, c->id), c);
		} else {
			assert_null(c->id);
			assert_null(c->runtime);
		}
	}
	/* containers come in order: regular, init, ephemeral */
	assert_string_equal(l.pods[1].containers[2].name, "init-config");
	assert_string_equal(l.pods[2].containers[2].name, "debugger-7kq2w");

	assert_string_equal(vg_kv_get(&l.pods[1].labels, "app"), "web");
	assert_string_equal(vg_kv_get(&l.pods[1].labels, "app.kubernetes.io/part-of"),
			    "shop");
	assert_string_equal(vg_kv_get(&l.pods[0].annotations,
				      "kubernetes.io/config.source"),
			    "file");
	/* a JSON document inside an annotation stays one string */
	assert_non_null(strstr(vg_kv_get(&l.pods[1].annotations,
					 "kubectl.kubernetes.io/last-applied-configuration"),
			       "\"kind\":\"Deployment\""));
	vg_pod_list_release(&l);
	vg_pod_list_release(&l); /* released twice is harmless */
	free(buf);
}

#define POD_META(uid) "\"metadata\":{\"namespace\":\"ns\",\"name\":\"p\",\"uid\":\"" uid "\""
#define ONE_POD(body) "{\"kind\":\"PodList\",\"items\":[" body "]}"
#define STATUS(body) "{" POD_META("u1") "},\"status\":{" body "}}"

/* Malformed and odd lists: one line a case. n_pods, n_labels and
 * n_containers are checked on success, the last two of the first pod
 * (-1: not checked). */
static const struct {
	const char *name;
	const char *json;
	int rc;
	const char *err; /* substring of err on failure */
	int n_pods, n_labels, n_containers;
} cases[] = {
	{ "empty input", "", -EINVAL, "invalid JSON", 0, -1, -1 },
	{ "truncated", "{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"uid\":", -EINVAL,
	  "invalid JSON", 0, -1, -1 },
	{ "trailing garbage", "{\"items\":[]} x", -EINVAL, "invalid JSON", 0, -1, -1 },
	{ "top level array", "[]", -EINVAL, "not a JSON object", 0, -1, -1 },
	{ "top level string", "\"PodList\"", -EINVAL, "invalid JSON", 0, -1, -1 },
	{ "kind Pod", "{\"kind\":\"Pod\",\"items\":[]}", -EINVAL, "not a PodList", 0, -1, -1 },
	{ "kind number", "{\"kind\":1,\"items\":[]}", -EINVAL, "not a PodList", 0, -1, -1 },
	{ "items missing", "{\"kind\":\"PodList\"}", -EINVAL, "items", 0, -1, -1 },
	{ "items object", "{\"items\":{}}", -EINVAL, "items", 0, -1, -1 },
	{ "items string", "{\"items\":\"x\"}", -EINVAL, "items", 0, -1, -1 },
	{ "items null: no pods", "{\"kind\":\"PodList\",\"items\":null}", 0, NULL, 0, -1, -1 },
	{ "items empty", "{\"items\":[]}", 0, NULL, 0, -1, -1 },
	{ "NUL in a string", ONE_POD("{" POD_META("u\\u0000x") "}}"), -EINVAL,
	  "invalid JSON", 0, -1, -1 },
	{ "minimal pod", ONE_POD("{" POD_META("u1") "}}"), 0, NULL, 1, 0, 0 },
	{ "item not an object", ONE_POD("1,null,\"x\",[],{" POD_META("u1") "}}"), 0,
	  NULL, 1, 0, 0 },
	{ "metadata not an object", ONE_POD("{\"metadata\":[]}"), 0, NULL, 0, -1, -1 },
	{ "missing uid", ONE_POD("{\"metadata\":{\"namespace\":\"ns\",\"name\":\"p\"}}"),
	  0, NULL, 0, -1, -1 },
	{ "uid a number", ONE_POD("{\"metadata\":{\"namespace\":\"ns\",\"name\":\"p\",\"uid\":7}}"),
	  0, NULL, 0, -1, -1 },
	{ "uid empty", ONE_POD("{" POD_META("") "}}"), 0, NULL, 0, -1, -1 },
	{ "missing name", ONE_POD("{\"metadata\":{\"namespace\":\"ns\",\"uid\":\"u\"}}"),
	  0, NULL, 0, -1, -1 },
	{ "namespace null", ONE_POD("{\"metadata\":{\"namespace\":null,\"name\":\"p\",\"uid\":\"u\"}}"),
	  0, NULL, 0, -1, -1 },
	{ "labels not an object", ONE_POD("{" POD_META("u1") ",\"labels\":[\"a\"]}}"),
	  0, NULL, 1, 0, 0 },
	{ "non-string label values skipped",
	  ONE_POD("{" POD_META("u1") ",\"labels\":{\"a\":1,\"b\":null,\"c\":true,"
		  "\"d\":{},\"e\":[],\"f\":\"ok\",\"g\":1.5}}}"),
	  0, NULL, 1, 1, 0 },
	{ "duplicate label keys: last wins",
	  ONE_POD("{" POD_META("u1") ",\"labels\":{\"a\":\"1\",\"a\":\"2\"}}}"),
	  0, NULL, 1, 1, 0 },
	{ "status not an object", ONE_POD("{" POD_META("u1") "},\"status\":\"Running\"}"),
	  0, NULL, 1, 0, 0 },
	{ "statuses not arrays",
	  ONE_POD(STATUS("\"containerStatuses\":{},\"initContainerStatuses\":\"x\","
			 "\"ephemeralContainerStatuses\":7,\"qosClass\":3")),
	  0, NULL, 1, 0, 0 },
	{ "status entries of the wrong type",
	  ONE_POD(STATUS("\"containerStatuses\":[1,null,[],{},{\"name\":5},"
			 "{\"name\":\"\"},{\"name\":\"ok\",\"containerID\":7}]")),
	  0, NULL, 1, 0, 1 },
	{ "all three kinds of statuses",
	  ONE_POD(STATUS("\"containerStatuses\":[{\"name\":\"a\",\"containerID\":\"docker://" ID_A "\"}],"
			 "\"initContainerStatuses\":[{\"name\":\"b\",\"containerID\":\"containerd://" ID_B "\"}],"
			 "\"ephemeralContainerStatuses\":[{\"name\":\"c\",\"containerID\":\"cri-o://x\"}]")),
	  0, NULL, 1, 0, 3 },
	{ "duplicate uids are kept",
	  "{\"items\":[{" POD_META("u1") "}},{" POD_META("u1") "}}]}", 0, NULL, 2, 0, 0 },
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(cases); i++) {
		struct vg_pod_list l = { 0 };
		char err[256] = "";
		int r;

		print_message("case: %s\n", cases[i].name);
		r = vg_kubelet_parse_podlist(cases[i].json, strlen(cases[i].json),
					     &l, err, sizeof(err));
		assert_int_equal(r, cases[i].rc);
		if (r < 0) {
			assert_non_null(strstr(err, cases[i].err));
			assert_null(l.pods); /* untouched */
			continue;
		}
		assert_int_equal(l.n_pods, cases[i].n_pods);
		if (cases[i].n_labels >= 0)
			assert_int_equal(l.pods[0].labels.n, cases[i].n_labels);
		if (cases[i].n_containers >= 0)
			assert_int_equal(l.pods[0].n_containers, cases[i].n_containers);
		for (size_t j = 0; j < l.n_pods; j++) {
			assert_non_null(l.pods[j].ns);
			assert_non_null(l.pods[j].name);
			assert_non_null(l.pods[j].uid);
		}
		vg_pod_list_release(&l);
	}
}

/* containerID → (runtime, id): one line a case. */
static const struct {
	const char *cid;
	const char *runtime, *id;
} ids[] = {
	{ "containerd://" ID_A, "containerd", ID_A },
	{ "docker://" ID_A, "docker", ID_A },
	{ "cri-o://" ID_A, "cri-o", ID_A },
	{ "", NULL, NULL },           /* not created yet */
	{ "containerd://", NULL, NULL },
	{ ID_A, NULL, ID_A },         /* no scheme: all id */
	{ "://" ID_A, NULL, "://" ID_A },
	{ "we ird://x", NULL, "we ird://x" },
	{ "a-very-long-scheme-that-is-not-one-at-all://x", NULL,
	  "a-very-long-scheme-that-is-not-one-at-all://x" },
	{ "containerd://a://b", "containerd", "a://b" },
};

static void test_container_ids(void **state)
{
	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(ids); i++) {
		struct vg_pod_list l = { 0 };
		char json[1024], err[256];
		const struct vg_pod_container *c;

		snprintf(json, sizeof(json),
			 ONE_POD(STATUS("\"containerStatuses\":[{\"name\":\"x\","
					"\"containerID\":\"%s\"}]")),
			 ids[i].cid);
		print_message("containerID: \"%s\"\n", ids[i].cid);
		assert_int_equal(vg_kubelet_parse_podlist(json, strlen(json), &l,
							  err, sizeof(err)),
				 0);
		assert_int_equal(l.n_pods, 1);
		assert_int_equal(l.pods[0].n_containers, 1);
		c = &l.pods[0].containers[0];
		if (ids[i].runtime)
			assert_string_equal(c->runtime, ids[i].runtime);
		else
			assert_null(c->runtime);
		if (ids[i].id)
			assert_string_equal(c->id, ids[i].id);
		else
			assert_null(c->id);
		vg_pod_list_release(&l);
	}
}

/* Builds {"items":[<n_pods copies of one pod with @inner in metadata>]} */
static char *build_list(size_t n_pods, const char *meta_extra,
			const char *status, size_t *ret_len)
{
	size_t cap = 64 + n_pods * (128 + strlen(meta_extra) + strlen(status));
	char *buf = xmalloc(cap), *p = buf;

	p += sprintf(p, "{\"kind\":\"PodList\",\"items\":[");
	for (size_t i = 0; i < n_pods; i++)
		p += sprintf(p, "%s{\"metadata\":{\"namespace\":\"ns\",\"name\":\"p\","
				"\"uid\":\"u%zu\"%s},\"status\":{%s}}",
			     i ? "," : "", i, meta_extra, status);
	p += sprintf(p, "]}");
	assert_true((size_t)(p - buf) < cap);
	*ret_len = (size_t)(p - buf);
	return buf;
}

static void test_big_label_value(void **state)
{
	size_t big = 2u << 20, len;
	char *extra = xmalloc(big + 64), *json;
	struct vg_pod_list l = { 0 };
	char err[256];
	int n;

	(void)state;
	n = sprintf(extra, ",\"labels\":{\"ok\":\"1\",\"big\":\"");
	memset(extra + n, 'v', big);
	strcpy(extra + n + big, "\"}");
	json = build_list(1, extra, "", &len);
	assert_int_equal(vg_kubelet_parse_podlist(json, len, &l, err, sizeof(err)), 0);
	/* the pod stays, the oversized label goes */
	assert_int_equal(l.n_pods, 1);
	assert_int_equal(l.pods[0].labels.n, 1);
	assert_null(vg_kv_get(&l.pods[0].labels, "big"));
	vg_pod_list_release(&l);
	free(json);

	/* an oversized uid costs the pod */
	memset(extra, 'u', VG_KV_MAX_KEY + 1);
	extra[VG_KV_MAX_KEY + 1] = '\0';
	assert_true(asprintf(&json, ONE_POD("{\"metadata\":{\"namespace\":\"n\","
					    "\"name\":\"p\",\"uid\":\"%s\"}}"),
			     extra) > 0);
	assert_int_equal(vg_kubelet_parse_podlist(json, strlen(json), &l, err,
						  sizeof(err)),
			 0);
	assert_int_equal(l.n_pods, 0);
	vg_pod_list_release(&l);
	free(json);
	free(extra);
}

static void test_many_labels(void **state)
{
	size_t n = 5000, len;
	char *extra = xmalloc(n * 32 + 64), *p = extra, *json;
	struct vg_pod_list l = { 0 };
	char err[256];

	(void)state;
	p += sprintf(p, ",\"labels\":{");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s\"k%05zu\":\"v\"", i ? "," : "", i);
	strcpy(p, "},\"annotations\":{\"a\":\"b\"}");
	json = build_list(2, extra, "", &len);
	assert_int_equal(vg_kubelet_parse_podlist(json, len, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n_pods, 2);
	assert_int_equal(l.pods[0].labels.n, VG_KV_MAX_PAIRS);
	assert_int_equal(l.pods[1].annotations.n, 1);
	vg_pod_list_release(&l);
	free(json);
	free(extra);
}

static void test_huge_arrays(void **state)
{
	struct vg_pod_list l = { 0 };
	char err[256] = "";
	size_t len, n;
	char *json, *st, *p;

	(void)state;
	/* more items than any node runs: refused, said so */
	n = VG_PODLIST_MAX_PODS + 1;
	json = xmalloc(n * 3 + 64);
	p = json + sprintf(json, "{\"items\":[");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s{}", i ? "," : "");
	strcpy(p, "]}");
	assert_int_equal(vg_kubelet_parse_podlist(json, strlen(json), &l, err,
						  sizeof(err)),
			 -E2BIG);
	assert_non_null(strstr(err, "items"));
	assert_null(l.pods);
	free(json);

	/* container statuses past the limit are dropped, the pod kept */
	n = 3000;
	st = xmalloc(n * 64 + 64);
	p = st + sprintf(st, "\"containerStatuses\":[");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s{\"name\":\"c%zu\",\"containerID\":\"docker://%zu\"}",
			     i ? "," : "", i, i);
	strcpy(p, "],\"initContainerStatuses\":[{\"name\":\"i\"}]");
	json = build_list(1, "", st, &len);
	assert_int_equal(vg_kubelet_parse_podlist(json, len, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n_pods, 1);
	assert_int_equal(l.pods[0].n_containers, VG_POD_MAX_CONTAINERS);
	assert_non_null(vg_pod_find_container(&l.pods[0], "1023"));
	assert_null(vg_pod_find_container(&l.pods[0], "1024"));
	vg_pod_list_release(&l);
	free(json);
	free(st);

	/* nesting deeper than jansson's limit: an error, not a stack overflow */
	n = 200000;
	json = xmalloc(n * 2 + 1);
	memset(json, '[', n);
	memset(json + n, ']', n);
	assert_int_equal(vg_kubelet_parse_podlist(json, 2 * n, &l, err, sizeof(err)),
			 -EINVAL);
	free(json);
}

static void test_find_container(void **state)
{
	static const char json[] = ONE_POD(
		STATUS("\"containerStatuses\":["
		       "{\"name\":\"a\",\"containerID\":\"containerd://" ID_A "\"},"
		       "{\"name\":\"w\",\"containerID\":\"\"},"
		       "{\"name\":\"b\",\"containerID\":\"cri-o://" ID_B "\"}]"));
	static const struct {
		const char *query;
		const char *name; /* NULL: not found */
	} q[] = {
		{ ID_A, "a" },
		{ ID_B, "b" },
		{ "containerd://" ID_A, "a" },
		{ "cri-o://" ID_B, "b" },
		{ "docker://" ID_A, NULL }, /* the scheme, when given, must agree */
		{ "4f2a9c1d8e7b", NULL },   /* no prefix matches */
		{ "", NULL },               /* the waiting container has no id */
		{ "containerd://", NULL },
	};
	struct vg_pod_list l = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(vg_kubelet_parse_podlist(json, strlen(json), &l, err,
						  sizeof(err)),
			 0);
	for (size_t i = 0; i < VG_ARRAY_SIZE(q); i++) {
		const struct vg_pod_container *c =
			vg_pod_find_container(&l.pods[0], q[i].query);

		print_message("find: \"%s\"\n", q[i].query);
		if (q[i].name) {
			assert_non_null(c);
			assert_string_equal(c->name, q[i].name);
		} else
			assert_null(c);
	}
	assert_null(vg_pod_find_container(NULL, ID_A));
	assert_null(vg_pod_find_container(&l.pods[0], NULL));
	vg_pod_list_release(&l);
}

static void test_copy(void **state)
{
	struct vg_pod_list l = { 0 };
	struct vg_pod_info copy, *heap;
	char err[256];
	size_t len;
	char *buf = load_fixture("podlist.json", &len);

	(void)state;
	assert_int_equal(vg_kubelet_parse_podlist(buf, len, &l, err, sizeof(err)), 0);
	free(buf);
	for (size_t i = 0; i < l.n_pods; i++) {
		const struct vg_pod_info *p = &l.pods[i];

		assert_int_equal(vg_pod_info_copy(p, &copy), 0);
		assert_string_equal(copy.uid, p->uid);
		assert_string_equal(copy.ns, p->ns);
		assert_string_equal(copy.name, p->name);
		assert_string_equal(copy.qos_class, p->qos_class);
		assert_true(vg_kv_equal(&copy.labels, &p->labels));
		assert_true(vg_kv_equal(&copy.annotations, &p->annotations));
		assert_int_equal(copy.n_containers, p->n_containers);
		for (size_t j = 0; j < p->n_containers; j++) {
			assert_string_equal(copy.containers[j].name, p->containers[j].name);
			assert_ptr_not_equal(copy.containers[j].name, p->containers[j].name);
			if (p->containers[j].id)
				assert_string_equal(copy.containers[j].id, p->containers[j].id);
			else
				assert_null(copy.containers[j].id);
		}
		vg_pod_info_release(&copy);
	}
	heap = calloc(1, sizeof(*heap));
	assert_non_null(heap);
	assert_int_equal(vg_pod_info_copy(&l.pods[1], heap), 0);
	vg_pod_list_release(&l);
	/* the copy outlives the list */
	assert_string_equal(heap->containers[1].id, ID_A);
	vg_pod_info_free(heap);

	vg_pod_info_free(NULL);
	vg_pod_info_release(NULL);
	vg_pod_list_release(NULL);
	vg_kubelet_free(NULL);
}

static void test_client_config(void **state)
{
	static const struct {
		const char *url, *token;
		bool ok;
	} cfgs[] = {
		{ "http://127.0.0.1:10255", NULL, true },
		{ "http://127.0.0.1:10255/", NULL, true },
		{ "https://node-1:10250", "/var/run/secrets/token", true },
		{ "http://[::1]:10255", NULL, true },
		{ NULL, NULL, false },
		{ "", NULL, false },
		{ "ftp://127.0.0.1/", NULL, false },
		{ "file:///etc/passwd", NULL, false },
		{ "127.0.0.1:10255", NULL, false },
		{ "http://", NULL, false },
		{ "http://127.0.0.1:10255/pods?x=1", NULL, false },
		{ "http://127.0.0.1:10255/#x", NULL, false },
		{ "http://127.0.0.1:10255\r\nX: y", NULL, false },
		/* a bearer token is never sent in clear */
		{ "http://127.0.0.1:10255", "/var/run/secrets/token", false },
	};

	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(cfgs); i++) {
		struct vg_kubelet_cfg cfg = { .url = cfgs[i].url,
					      .token_file = cfgs[i].token };
		struct vg_kubelet *k;

		errno = 0;
		k = vg_kubelet_new(&cfg);
		print_message("url: %s\n", cfgs[i].url ? cfgs[i].url : "(null)");
		if (cfgs[i].ok)
			assert_non_null(k);
		else {
			assert_null(k);
			assert_int_equal(errno, EINVAL);
		}
		vg_kubelet_free(k);
	}
	assert_null(vg_kubelet_new(NULL));
}

/* A loopback port that refuses connections: bound, never listening, so
 * nothing else can take it meanwhile. */
static int refusing_port(int *ret_fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*ret_fd = fd;
	return ntohs(sa.sin_port);
}

static void test_client_local_errors(void **state)
{
	struct vg_pod_info pod = { .uid = (char *)"sentinel" };
	struct vg_kubelet_cfg cfg = { .timeout_ms = 1000, .min_refresh_ms = 60000 };
	char url[64], err[256], tok[] = "/tmp/vigil-test-token-XXXXXX";
	struct vg_kubelet *k;
	int fd, tfd;

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", refusing_port(&fd));
	cfg.url = url;
	k = vg_kubelet_new(&cfg);
	assert_non_null(k);
	assert_int_equal(vg_kubelet_pod(k, "u1", &pod, err, sizeof(err)), -ECONNREFUSED);
	assert_string_equal(pod.uid, "sentinel"); /* untouched on failure */
	/* a second miss within min_refresh_ms does not ask again */
	assert_int_equal(vg_kubelet_pod(k, "u2", &pod, err, sizeof(err)), -EAGAIN);
	assert_non_null(strstr(err, "not asking"));
	assert_int_equal(vg_kubelet_pod(k, NULL, &pod, err, sizeof(err)), -EINVAL);
	assert_int_equal(vg_kubelet_pod(NULL, "u1", &pod, NULL, 0), -EINVAL);
	vg_kubelet_free(k);
	close(fd);

	/* token trouble is found before any connection is made */
	tfd = mkstemp(tok);
	assert_true(tfd >= 0);
	cfg.url = "https://127.0.0.1:1";
	cfg.token_file = tok;
	{
		static const struct {
			const char *content;
			const char *why;
		} toks[] = {
			{ "", "empty" },
			{ "\n\n", "empty" },
			{ "abc\r\nX-Injected: 1\n", "control characters" },
			{ "two words\n", "control characters" },
		};

		for (size_t i = 0; i < VG_ARRAY_SIZE(toks); i++) {
			assert_int_equal(ftruncate(tfd, 0), 0);
			assert_int_equal(pwrite(tfd, toks[i].content,
						strlen(toks[i].content), 0),
					 (ssize_t)strlen(toks[i].content));
			k = vg_kubelet_new(&cfg);
			assert_non_null(k);
			assert_int_equal(vg_kubelet_pod(k, "u1", &pod, err, sizeof(err)),
					 -EACCES);
			assert_non_null(strstr(err, toks[i].why));
			vg_kubelet_free(k);
		}
	}
	{
		size_t big = VG_KUBELET_TOKEN_MAX + 10;
		char *b = xmalloc(big);

		memset(b, 'a', big);
		assert_int_equal(pwrite(tfd, b, big, 0), (ssize_t)big);
		free(b);
		k = vg_kubelet_new(&cfg);
		assert_int_equal(vg_kubelet_pod(k, "u1", &pod, err, sizeof(err)), -EACCES);
		assert_non_null(strstr(err, "larger"));
		vg_kubelet_free(k);
	}
	close(tfd);
	unlink(tok);
	k = vg_kubelet_new(&cfg);
	assert_int_equal(vg_kubelet_pod(k, "u1", &pod, err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "No such file"));
	vg_kubelet_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture),
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_container_ids),
		cmocka_unit_test(test_big_label_value),
		cmocka_unit_test(test_many_labels),
		cmocka_unit_test(test_huge_arrays),
		cmocka_unit_test(test_find_container),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_client_config),
		cmocka_unit_test(test_client_local_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
