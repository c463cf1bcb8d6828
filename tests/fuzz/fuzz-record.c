/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A recording (vigil watch --record, or anything claiming to be one)
 * through the replay source, the engine and both renderers: the file is
 * outside input when a user replays what someone shared. Nothing may
 * crash, leak or read out of bounds, and every line rendered as JSON
 * must be one JSON object. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attrib/attrib.h"
#include "engine/engine.h"
#include "source/replay/replay.h"

static struct vigil_ctx *ctx;

static void check_line(struct vg_sink *s, const char *line, size_t len,
		       const struct vg_event *e)
{
	(void)e;
	if (s->mode == VG_OUTPUT_JSON) {
		/* u64 values past INT64_MAX are JSON, but not jansson integers */
		json_t *j = json_loadb(line, len, JSON_DECODE_INT_AS_REAL, NULL);

		if (!j || !json_is_object(j)) {
			fprintf(stderr, "not one JSON object: %.*s\n", (int)len, line);
			abort();
		}
		json_decref(j);
	} else if (memchr(line, '\n', len)) {
		abort(); /* a text line is one line */
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char root[] = "/tmp/vigil-fuzz-record.XXXXXX", path[128];
	FILE *f;

	(void)argc, (void)argv;
	if (!mkdtemp(root))
		abort();
	snprintf(path, sizeof(path), "%s/proc", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/proc/stat", root);
	f = fopen(path, "w");
	if (f) {
		fputs("btime 1795000000\n", f);
		fclose(f);
	}
	if (vigil_ctx_new(root, &ctx) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("recording", MFD_CLOEXEC);
	struct vg_sink js = { .types = ~0ull, .threads = true, .mode = VG_OUTPUT_JSON,
			      .emit = check_line };
	struct vg_sink tx = { .types = ~0ull, .threads = true, .mode = VG_OUTPUT_TEXT,
			      .emit = check_line };
	struct vg_source *src;
	struct vg_engine *en;
	char path[64], err[256];

	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (vg_replay_source_new(path, NULL, 0, &src, err, sizeof(err)) == 0) {
		const struct vg_engine_opts o = { .ctx = ctx, .src = src,
						  .ptable_max = 1024 };

		/* the recording's claim verdicts, hostile too */
		vg_replay_verifier(src, &ctx->verify_fn, &ctx->verify_arg);

		en = vg_engine_new(&o, err, sizeof(err));
		if (en && vg_engine_add_sink(en, &js, NULL, 0) == 0 &&
		    vg_engine_add_sink(en, &tx, NULL, 0) == 0) {
			vg_engine_start(en);
			for (int i = 0; i < 100000 && !vg_engine_ended(en); i++)
				vg_engine_pump(en);
			vg_engine_finish(en);
		}
		vg_engine_free(en);
	}
	close(fd);
	return 0;
}
