/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VG_EVENT_TPFORMAT_H
#define VG_EVENT_TPFORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


/*
 * Kernel tracepoint format descriptions (tracefs events/GROUP/NAME/format),
 * and the decoding of raw tracepoint records by them. One generic BPF
 * program copies any tracepoint's record as it is; what its bytes mean is
 * learnt at run time from the format, so a tracepoint the sensor was never
 * built for is still decoded by field name.
 */

/* Limits on what a hostile or odd format file may make us hold. */
#define VG_TP_FORMAT_MAX (64 * 1024)  /* bytes of format text */
#define VG_TP_FIELDS_MAX 256
#define VG_TP_NAME_MAX 128            /* field, event and group names */
#define VG_TP_TYPE_MAX 256
#define VG_TP_RECORD_MAX (64 * 1024)  /* every offset + size lies within */

enum vg_tp_field_kind {
	VG_TPF_INT,          /* 1, 2, 4 or 8 bytes */
	VG_TPF_STRING_ARRAY, /* char name[N]: a string up to the first NUL */
	VG_TPF_DATA_LOC,     /* u32: offset (low 16 bits, from the record's
			      * start) and length (high 16) of the data */
	VG_TPF_REL_LOC,      /* the same, offset from the end of this field */
	VG_TPF_ARRAY,        /* other fixed arrays of 1/2/4/8-byte integers */
	VG_TPF_POINTER,      /* a kernel address: 4 or 8 bytes */
	VG_TPF_OTHER,        /* anything else: decoded as its bytes */
};

struct vg_tp_field {
	char *name;
	char *type;        /* the declaration without the name: "char[16]",
			    * "__data_loc char[]", "const char *" */
	uint32_t offset, size;
	bool is_signed;    /* the format's signed:; for the loc kinds, the
			    * element type's (the u32 itself is unsigned) */
	enum vg_tp_field_kind kind;
	/* Arrays (also the loc kinds and OTHER): the element size, and for
	 * fixed arrays their length; 0 elements is a flexible array ("[]",
	 * size 0) that runs to the end of the record. */
	uint32_t elem_size, n_elems;
	/* char elements, decoded as a string up to the first NUL:
	 * STRING_ARRAY and "__data_loc char[]"/"__rel_loc char[]" */
	bool is_string;
};

struct vg_tp_format {
	char *group, *name;
	uint32_t id;
	struct vg_tp_field *fields;
	size_t n_fields;
	uint32_t common_size; /* bytes of the common_* fields */
	uint32_t record_size; /* max offset + size over all fields */
};

/*
 * Parse a format description of @len bytes (need not be NUL-terminated).
 * Returns 0, -EBADMSG with a reason naming the line in @err, or -ENOMEM;
 * *ret is untouched on failure. ret->group stays NULL (the text does not
 * say it). Caller releases *ret with vg_tp_format_release().
 */
int vg_tp_format_parse(const char *text, size_t len, struct vg_tp_format *ret,
		       char *err, size_t errsz);

/*
 * Read and parse events/@group/@name/format under an open tracefs
 * directory. -EINVAL for a group or name that is not [A-Za-z0-9_]+ (so
 * never a path of its own), -ENOENT for an unknown tracepoint, -EFBIG for
 * a format over VG_TP_FORMAT_MAX, else as vg_tp_format_parse(). The
 * event's name line must match @name.
 */
int vg_tp_format_load(int tracefs_dirfd, const char *group, const char *name,
		      struct vg_tp_format *ret, char *err, size_t errsz);

/* Frees the contents and zeroes *f; accepts NULL and zeroed formats. */
void vg_tp_format_release(struct vg_tp_format *f);

/* The field named @name, or NULL. */
const struct vg_tp_field *vg_tp_format_field(const struct vg_tp_format *f,
					     const char *name);

#endif
