/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel's drop set. When every sink that wants more than the
 * process table's events is limited to some containers or to the host,
 * the kernel is told which cgroups none of them wants, and their events
 * of the droppable types are not even sent. A cgroup is decided when its
 * first event arrives: until then it passes, so a new container's first
 * events are never lost to a decision not yet made; one whose metadata
 * is still being read, or whose claim is not verified yet, passes until
 * it is known. Selections are still
 * applied exactly to each event; the kernel only sheds what no one wants.
 */
#include "engine/internal.h"

#include <errno.h>
#include <stdlib.h>

static size_t drop_hash(uint64_t id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 40) & (DROP_SLOTS - 1);
}

static struct drop_slot *drop_find(struct vg_engine *en, uint64_t id)
{
	for (size_t i = drop_hash(id);; i = (i + 1) & (DROP_SLOTS - 1)) {
		if (en->drop[i].state == DS_EMPTY)
			return NULL;
		if (en->drop[i].id == id)
			return &en->drop[i];
	}
}

static struct drop_slot *drop_insert(struct vg_engine *en, uint64_t id)
{
	size_t i = drop_hash(id);

	if (en->n_drop >= DROP_SLOTS / 2)
		return NULL;
	while (en->drop[i].state != DS_EMPTY)
		i = (i + 1) & (DROP_SLOTS - 1);
	en->drop[i].id = id;
	en->n_drop++;
	return &en->drop[i];
}

/* Whether @s wants events of the droppable types of a cgroup that @a
 * attributes. */
static bool sink_keeps(const struct vg_sink *s, const struct vg_attribution *a)
{
	return !s->sel || vg_selector_matches(s->sel, a);
}

/* What the sinks make of cgroup @id. */
static uint8_t drop_verdict(struct vg_engine *en, uint64_t id)
{
	struct vg_attribution a;

	/* the root cgroup holds everyone where cgroup v2 is unused */
	if (id <= 1 || vg_attrib_cgroup_id(en->ctx, id, &a) < 0)
		return DS_KEEP;
	for (struct vg_sink *s = en->sinks; s; s = s->next)
		if ((s->types & DROP_TYPES) && sink_keeps(s, &a))
			return DS_KEEP;
	if (a.match.role == VG_ROLE_CONTAINER && a.meta &&
	    (a.meta->pending || a.meta->verify == VG_VERIFY_PENDING))
		return DS_PENDING;
	return DS_DROP;
}

static void drop_apply(struct vg_engine *en, struct drop_slot *s, uint8_t v)
{
	if (v == s->state)
		return;
	if (s->state == DS_DROP) {
		en->src->ops->drop_cgroup(en->src, s->id, false);
		en->st.drop_cgroups--;
	}
	if (v == DS_DROP) {
		if (en->src->ops->drop_cgroup(en->src, s->id, true) < 0) {
			en->st.drop_full++;
			v = DS_KEEP;
		} else {
			en->st.drop_cgroups++;
		}
	}
	s->state = v;
}

void drop_consider(struct vg_engine *en, uint64_t id)
{
	struct drop_slot *s;
	uint8_t v;

	if (!en->drop)
		return;
	s = drop_find(en, id);
	if (s && s->state != DS_PENDING)
		return;
	v = drop_verdict(en, id);
	if (!s && !(s = drop_insert(en, id))) {
		en->st.drop_untracked++;
		return;
	}
	drop_apply(en, s, v);
}

/* A cgroup went: out of the table (linear probing, backward shift). */
void drop_forget(struct vg_engine *en, uint64_t id)
{
	struct drop_slot *s;
	size_t i, j;

	if (!en->drop || !(s = drop_find(en, id)))
		return;
	drop_apply(en, s, DS_KEEP);
	i = (size_t)(s - en->drop);
	for (j = (i + 1) & (DROP_SLOTS - 1); en->drop[j].state != DS_EMPTY;
	     j = (j + 1) & (DROP_SLOTS - 1)) {
		size_t k = drop_hash(en->drop[j].id);

		/* stays unless its home is cyclically outside (i, j] */
		if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
			en->drop[i] = en->drop[j];
			i = j;
		}
	}
	en->drop[i].state = DS_EMPTY;
	en->n_drop--;
}

static void drop_off(struct vg_engine *en)
{
	/* the kernel stops consulting the set, then it empties */
	en->src->ops->drop_types(en->src, 0);
	en->drop_types = 0;
	if (en->drop)
		for (size_t i = 0; i < DROP_SLOTS; i++)
			if (en->drop[i].state == DS_DROP)
				en->src->ops->drop_cgroup(en->src, en->drop[i].id, false);
	free(en->drop);
	en->drop = NULL;
	en->n_drop = 0;
	en->st.drop_cgroups = 0;
}

int drop_update(struct vg_engine *en)
{
	uint64_t types = 0;
	bool everything = false;

	if (!(en->src->caps & VG_SRC_DROP))
		return 0;
	for (struct vg_sink *s = en->sinks; s; s = s->next) {
		if (!(s->types & DROP_TYPES))
			continue;
		if (!s->sel)
			everything = true;
		types |= s->types & DROP_TYPES;
	}
	if (everything || !types) {
		drop_off(en);
		return 0;
	}
	if (!en->drop && !(en->drop = calloc(DROP_SLOTS, sizeof(*en->drop))))
		return -ENOMEM;
	/* what is decided is decided again; the rest as it shows up */
	for (size_t i = 0; i < DROP_SLOTS; i++)
		if (en->drop[i].state != DS_EMPTY)
			drop_apply(en, &en->drop[i], drop_verdict(en, en->drop[i].id));
	en->src->ops->drop_types(en->src, types);
	en->drop_types = types;
	return 0;
}

void drop_free(struct vg_engine *en)
{
	free(en->drop);
	en->drop = NULL;
}
