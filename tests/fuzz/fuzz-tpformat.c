/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tracepoint format, then a raw record decoded by it. Input layout: a
 * little-endian u16 with the format text's length (cut to what follows),
 * the text, and the rest is the record. Both are copied into buffers of
 * their exact size, so a read past either end (or before the record) is
 * an ASan report rather than a read of the neighbouring bytes. Seeds in
 * corpus-tpformat are real formats with records built for them
 * (mkseeds.py).
 *
 * What a parse accepts must keep decode() in bounds whatever the record
 * holds, and what decode() prints must be JSON with unique keys.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/tpformat.h"
#include "render/tp.h"

static struct vg_printer *json_p, *text_p;

static void check_format(const struct vg_tp_format *f)
{
	uint32_t record = 0, common = 0;

	if (!f->name || f->group || !f->n_fields ||
	    f->n_fields > VG_TP_FIELDS_MAX)
		__builtin_trap();
	for (size_t i = 0; i < f->n_fields; i++) {
		const struct vg_tp_field *fl = &f->fields[i];
		uint32_t end = fl->offset + fl->size;

		if (!fl->name[0] || strlen(fl->name) > VG_TP_NAME_MAX ||
		    !fl->type[0] || strlen(fl->type) > VG_TP_TYPE_MAX ||
		    fl->offset > VG_TP_RECORD_MAX ||
		    fl->size > VG_TP_RECORD_MAX || end > VG_TP_RECORD_MAX)
			__builtin_trap();
		if (vg_tp_format_field(f, fl->name) != fl)
			__builtin_trap(); /* names are unique */
		switch (fl->kind) {
		case VG_TPF_INT:
		case VG_TPF_POINTER:
			if (fl->size != 1 && fl->size != 2 && fl->size != 4 &&
			    fl->size != 8)
				__builtin_trap();
			if (fl->kind == VG_TPF_POINTER && fl->size < 4)
				__builtin_trap();
			break;
		case VG_TPF_DATA_LOC:
		case VG_TPF_REL_LOC:
			if (fl->size != 4 || !fl->elem_size)
				__builtin_trap();
			break;
		case VG_TPF_STRING_ARRAY:
		case VG_TPF_ARRAY:
		case VG_TPF_OTHER:
			if (!fl->elem_size || fl->elem_size > 8 ||
			    fl->elem_size * fl->n_elems != fl->size)
				__builtin_trap();
			break;
		default:
			__builtin_trap();
		}
		if (end > record)
			record = end;
		if (strncmp(fl->name, "common_", 7) == 0 && end > common)
			common = end;
	}
	if (record != f->record_size || common != f->common_size)
		__builtin_trap();
}

/* Decode @len bytes of @data from a copy of exactly that size. */
static void decode(const struct vg_tp_format *f, const uint8_t *data,
		   size_t len)
{
	uint8_t *rec = len ? malloc(len) : NULL;
	json_error_t jerr;
	json_t *root;
	char *s;

	if (len && !rec)
		abort();
	if (len)
		memcpy(rec, data, len);
	vg_pr_begin(json_p);
	vg_tp_decode(f, rec, len, json_p, "ev");
	s = vg_pr_end_string(json_p);
	if (!s)
		__builtin_trap();
	root = json_loads(s, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL,
			  &jerr);
	if (!root || !json_is_object(json_object_get(root, "ev")))
		__builtin_trap();
	json_decref(root);
	free(s);

	vg_pr_begin(text_p);
	vg_tp_decode(f, rec, len, text_p, "ev");
	free(vg_pr_end_string(text_p));
	free(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_tp_format f = {};
	size_t tlen, rlen;
	char *text, err[256];
	const uint8_t *rec;

	if (!json_p) {
		json_p = vg_printer_new(VG_OUTPUT_JSON);
		text_p = vg_printer_new(VG_OUTPUT_TEXT);
		if (!json_p || !text_p)
			abort();
	}
	if (size < 2)
		return 0;
	tlen = (size_t)data[0] | (size_t)data[1] << 8;
	if (tlen > size - 2)
		tlen = size - 2;
	rlen = size - 2 - tlen;
	text = malloc(tlen ? tlen : 1);
	if (!text)
		abort();
	memcpy(text, data + 2, tlen);
	rec = data + 2 + tlen;

	err[0] = '\0';
	if (vg_tp_format_parse(text, tlen, &f, err, sizeof(err)) < 0) {
		/* every failure says why, and leaves the output alone */
		if (!err[0] || f.name || f.fields)
			__builtin_trap();
	} else {
		check_format(&f);
		decode(&f, rec, rlen);
		/* every shorter record too would be slow: one cut is enough
		 * to reach the truncation paths */
		decode(&f, rec, rlen / 2);
		decode(&f, NULL, 0);
		vg_tp_format_release(&f);
	}
	free(text);
	return 0;
}
