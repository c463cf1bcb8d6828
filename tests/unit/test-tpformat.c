/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tracepoint formats: the real ones under tests/fixtures/tracefs (copied
 * from a 6.18 kernel's tracefs, loaded as a fake tracefs), malformed ones
 * one line a case, and raw records built by hand and decoded to JSON that
 * jansson must read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event/tpformat.h"
#include "render/tp.h"
#include "source/bpf/tracefs.h"
#include "base/util.h"

#define INT VG_TPF_INT
#define STR VG_TPF_STRING_ARRAY
#define DLOC VG_TPF_DATA_LOC
#define RLOC VG_TPF_REL_LOC
#define ARR VG_TPF_ARRAY
#define PTR VG_TPF_POINTER
#define OTHER VG_TPF_OTHER

struct field_want {
	const char *name, *type;
	enum vg_tp_field_kind kind;
	uint32_t offset, size;
	bool is_signed, is_string;
	uint32_t elem_size, n_elems;
};

static const struct {
	const char *group, *name;
	uint32_t id;
	size_t n_fields;
	uint32_t common_size, record_size;
	struct field_want f[3]; /* the interesting ones */
} fixtures[] = {
	{ "sched", "sched_process_exec", 365, 7, 8, 20,
	  { { "filename", "__data_loc char[]", DLOC, 8, 4, false, true, 1, 0 },
	    { "pid", "pid_t", INT, 12, 4, true, false, 0, 0 },
	    { "common_pid", "int", INT, 4, 4, true, false, 0, 0 } } },
	{ "sched", "sched_switch", 372, 11, 8, 64,
	  { { "prev_comm", "char[16]", STR, 8, 16, false, true, 1, 16 },
	    { "prev_state", "long", INT, 32, 8, true, false, 0, 0 },
	    { "next_prio", "int", INT, 60, 4, true, false, 0, 0 } } },
	/* the syscall wrappers widen every argument to 8 bytes whatever
	 * type they print */
	{ "syscalls", "sys_enter_openat", 782, 9, 8, 48,
	  { { "filename", "const char *", PTR, 24, 8, false, false, 0, 0 },
	    { "dfd", "int", INT, 16, 8, false, false, 0, 0 },
	    { "__syscall_nr", "int", INT, 8, 4, true, false, 0, 0 } } },
	{ "net", "netif_receive_skb", 2303, 7, 8, 24,
	  { { "skbaddr", "void *", PTR, 8, 8, false, false, 0, 0 },
	    { "len", "unsigned int", INT, 16, 4, false, false, 0, 0 },
	    { "name", "__data_loc char[]", DLOC, 20, 4, false, true, 1, 0 } } },
	{ "signal", "signal_generate", 261, 11, 8, 48,
	  { { "comm", "char[16]", STR, 20, 16, false, true, 1, 16 },
	    { "errno", "int", INT, 12, 4, true, false, 0, 0 },
	    { "result", "int", INT, 44, 4, true, false, 0, 0 } } },
	{ "irq", "irq_handler_entry", 225, 6, 8, 16,
	  { { "irq", "int", INT, 8, 4, true, false, 0, 0 },
	    { "name", "__data_loc char[]", DLOC, 12, 4, false, true, 1, 0 },
	    { "common_type", "unsigned short", INT, 0, 2, false, false, 0, 0 } } },
	{ "raw_syscalls", "sys_enter", 443, 6, 8, 64,
	  { { "args", "unsigned long[6]", ARR, 16, 48, false, false, 8, 6 },
	    { "id", "long", INT, 8, 8, true, false, 0, 0 },
	    { "common_flags", "unsigned char", INT, 2, 1, false, false, 0, 0 } } },
	{ "dma", "dma_map_sg", 431, 13, 8, 48,
	  { { "phys_addrs", "__data_loc u64[]", DLOC, 24, 4, false, false, 8, 0 },
	    { "lengths", "__data_loc unsigned int[]", DLOC, 32, 4, false, false, 4, 0 },
	    { "truncated", "bool", INT, 20, 1, false, false, 0, 0 } } },
};

static int fixtures_fd(void)
{
	const char *base = getenv("VIGIL_FIXTURES");
	char path[4096];
	int fd;

	assert_non_null(base);
	snprintf(path, sizeof(path), "%s/tracefs", base);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void check_field(const struct vg_tp_format *f,
			const struct field_want *w, const char *ev)
{
	const struct vg_tp_field *fl = vg_tp_format_field(f, w->name);

	if (!fl)
		fail_msg("%s: no field %s", ev, w->name);
	assert_string_equal(fl->type, w->type);
	if (fl->kind != w->kind || fl->offset != w->offset ||
	    fl->size != w->size || fl->is_signed != w->is_signed ||
	    fl->is_string != w->is_string)
		fail_msg("%s.%s: kind %d offset %u size %u signed %d string %d",
			 ev, w->name, fl->kind, fl->offset, fl->size,
			 fl->is_signed, fl->is_string);
	if (w->kind != INT && w->kind != PTR &&
	    (fl->elem_size != w->elem_size || fl->n_elems != w->n_elems))
		fail_msg("%s.%s: elem_size %u n_elems %u", ev, w->name,
			 fl->elem_size, fl->n_elems);
}

static void test_load_fixtures(void **state)
{
	_cleanup_close_ int dfd = fixtures_fd();

	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(fixtures); i++) {
		struct vg_tp_format f = {};
		char err[256] = "";
		int r;

		r = vg_tp_format_load(dfd, fixtures[i].group, fixtures[i].name,
				      &f, err, sizeof(err));
		if (r < 0)
			fail_msg("%s: %d %s", fixtures[i].name, r, err);
		assert_string_equal(f.group, fixtures[i].group);
		assert_string_equal(f.name, fixtures[i].name);
		assert_int_equal(f.id, fixtures[i].id);
		assert_int_equal(f.n_fields, fixtures[i].n_fields);
		assert_int_equal(f.common_size, fixtures[i].common_size);
		assert_int_equal(f.record_size, fixtures[i].record_size);
		for (size_t j = 0; j < VG_ARRAY_SIZE(fixtures[i].f); j++)
			check_field(&f, &fixtures[i].f[j], fixtures[i].name);
		assert_null(vg_tp_format_field(&f, "nonexistent"));
		vg_tp_format_release(&f);
		/* release leaves a zeroed format, safe to release again */
		vg_tp_format_release(&f);
	}
	vg_tp_format_release(NULL);
}

#define HDR "name: ev\nID: 7\nformat:\n" \
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" \
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n" \
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n" \
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
#define PRINT "\nprint fmt: \"x=%d\", REC->x\n"

/* Shapes the fixtures do not show; checked by one field each. */
static const struct {
	const char *what, *text;
	struct field_want f;
} shapes[] = {
	{ "rel_loc", HDR "\tfield:__rel_loc char[] msg;\toffset:8;\tsize:4;\tsigned:0;\n" PRINT,
	  { "msg", "__rel_loc char[]", RLOC, 8, 4, false, true, 1, 0 } },
	{ "flexible array (ftrace/print)", HDR
	  "\tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;\n"
	  "\tfield:char buf[];\toffset:16;\tsize:0;\tsigned:0;\n" PRINT,
	  { "buf", "char[]", STR, 16, 0, false, true, 1, 0 } },
	{ "flexible u32 array (ftrace/bprint)", HDR
	  "\tfield:u32 buf[];\toffset:8;\tsize:0;\tsigned:0;\n" PRINT,
	  { "buf", "u32[]", ARR, 8, 0, false, false, 4, 0 } },
	{ "spaces, CRLF, any order", "name: ev\r\nID: 7\r\nformat:\r\n"
	  "  field: int  x ;  signed:1 ;size: 4;offset :8  \r\n" PRINT,
	  { "x", "int", INT, 8, 4, true, false, 0, 0 } },
	{ "old kernels' field special", HDR
	  "\tfield special:char comm[16];\toffset:8;\tsize:16;\tsigned:1;\n" PRINT,
	  { "comm", "char[16]", STR, 8, 16, true, true, 1, 16 } },
	{ "unknown attribute ignored", HDR
	  "\tfield:int x;\toffset:8;\tsize:4;\tsigned:1;\tfuture:3;\n" PRINT,
	  { "x", "int", INT, 8, 4, true, false, 0, 0 } },
	{ "array length as an expression", HDR
	  "\tfield:u8 key[4 * 4];\toffset:8;\tsize:16;\tsigned:0;\n" PRINT,
	  { "key", "u8[4 * 4]", OTHER, 8, 16, false, false, 1, 16 } },
	{ "struct by value", HDR
	  "\tfield:struct foo f;\toffset:8;\tsize:12;\tsigned:0;\n" PRINT,
	  { "f", "struct foo", OTHER, 8, 12, false, false, 1, 12 } },
	{ "__data_loc of an unknown type", HDR
	  "\tfield:__data_loc cpumask_t mask;\toffset:8;\tsize:4;\tsigned:0;\n" PRINT,
	  { "mask", "__data_loc cpumask_t", DLOC, 8, 4, false, false, 1, 0 } },
	{ "__data_loc of signed elements", HDR
	  "\tfield:__data_loc s32[] v;\toffset:8;\tsize:4;\tsigned:0;\n" PRINT,
	  { "v", "__data_loc s32[]", DLOC, 8, 4, true, false, 4, 0 } },
	{ "ID 0, no print fmt", "name: ev\nID: 0\n\tfield:int x;\toffset:0;\tsize:4;\tsigned:1;",
	  { "x", "int", INT, 0, 4, true, false, 0, 0 } },
	{ "print fmt ends the fields", HDR
	  "\tfield:int x;\toffset:8;\tsize:4;\tsigned:1;\n"
	  "print fmt: \"\\n\tfield:int y;\toffset:99999999;\"\n"
	  "\tfield:garbage\n",
	  { "x", "int", INT, 8, 4, true, false, 0, 0 } },
};

static void test_parse_shapes(void **state)
{
	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(shapes); i++) {
		struct vg_tp_format f = {};
		char err[256] = "";

		if (vg_tp_format_parse(shapes[i].text, strlen(shapes[i].text),
				       &f, err, sizeof(err)) < 0)
			fail_msg("%s: %s", shapes[i].what, err);
		assert_null(f.group);
		assert_string_equal(f.name, "ev");
		check_field(&f, &shapes[i].f, shapes[i].what);
		assert_null(vg_tp_format_field(&f, "y"));
		vg_tp_format_release(&f);
	}
}

#define FLD(decl, off, size) "\tfield:" decl ";\toffset:" #off ";\tsize:" #size ";\tsigned:0;\n"

static const struct {
	const char *what, *text, *err;
} malformed[] = {
	{ "missing offset", HDR "\tfield:int x;\tsize:4;\tsigned:1;\n",
	  "line 9: field has no offset" },
	{ "missing size", HDR "\tfield:int x;\toffset:8;\tsigned:1;\n",
	  "line 9: field has no size" },
	{ "missing signed", HDR "\tfield:int x;\toffset:8;\tsize:4;\n",
	  "line 9: field has no signed" },
	{ "no declaration end", HDR "\tfield:int x\toffset:8\tsize:4\n",
	  "line 9: field line without ';'" },
	{ "size 0", HDR FLD("int x", 8, 0), "line 9: field x: size 0" },
	{ "size 0 fixed array", HDR FLD("char c[4]", 8, 0), "line 9: field c: size 0" },
	{ "offset beyond the limit", HDR FLD("int x", 65534, 4),
	  "line 9: field x (offset 65534, size 4) ends past 65536 bytes" },
	{ "offset far beyond", HDR FLD("int x", 99999999999999999999999, 4),
	  "ends past 65536 bytes" },
	{ "size beyond", HDR FLD("char c[70000]", 0, 70000), "ends past 65536 bytes" },
	{ "offset not a number", HDR FLD("int x", 0x8, 4), "line 9: offset is not a number" },
	{ "negative size", HDR FLD("int x", 8, -4), "line 9: size is not a number" },
	{ "offset twice", HDR "\tfield:int x;\toffset:8;\toffset:8;\tsize:4;\tsigned:1;\n",
	  "line 9: offset given twice" },
	{ "signed 2", HDR "\tfield:int x;\toffset:8;\tsize:4;\tsigned:2;\n",
	  "line 9: signed is 2" },
	{ "attribute without colon", HDR "\tfield:int x;\toffset 8;\tsize:4;\tsigned:1;\n",
	  "line 9: \"offset 8\" is not key:value" },
	{ "one word", HDR FLD("int", 8, 4), "line 9: field int has no type" },
	{ "no declaration", HDR FLD("", 8, 4), "line 9: no field name" },
	{ "no type", HDR FLD("x", 8, 4), "line 9: field x has no type" },
	{ "digit name", HDR FLD("int 9x", 8, 4), "line 9: no field name" },
	{ "bracket without open", HDR FLD("char c 16]", 8, 16), "line 9: ']' without '['" },
	{ "duplicate field", HDR FLD("int x", 8, 4) FLD("int x", 12, 4),
	  "line 10: field x appears twice" },
	{ "field named _error", HDR FLD("int _error", 8, 4),
	  "line 9: field name _error is reserved" },
	{ "data_loc of 8 bytes", HDR FLD("__data_loc char[] s", 8, 8),
	  "line 9: field s: a __data_loc or __rel_loc field is 4 bytes" },
	{ "no name", "ID: 7\n" FLD("int x", 0, 4), "no name: line" },
	{ "no ID", "name: ev\n" FLD("int x", 0, 4), "no ID: line" },
	{ "no fields", "name: ev\nID: 7\nformat:\n" PRINT, "no field: lines" },
	{ "empty", "", "no name: line" },
	{ "second name", "name: ev\nname: ev\n", "line 2: second name line" },
	{ "second ID", "name: ev\nID: 0\nID: 0\n", "line 3: second ID line" },
	{ "ID too big", "name: ev\nID: 4294967296\n", "line 2: ID is not a 32-bit number" },
	{ "ID empty", "name: ev\nID:\n", "line 2: ID is not a 32-bit number" },
	{ "event name with a slash", "name: ../ev\n", "line 1: event name is not" },
	{ "empty event name", "name:\n", "line 1: event name is not" },
};

static void expect_bad(const char *what, const char *text, size_t len,
		       const char *want)
{
	struct vg_tp_format f = { .id = 12345 };
	char err[256] = "";
	int r = vg_tp_format_parse(text, len, &f, err, sizeof(err));

	if (r != -EBADMSG)
		fail_msg("%s: returned %d (%s)", what, r, err);
	if (!strstr(err, want))
		fail_msg("%s: error \"%s\" lacks \"%s\"", what, err, want);
	/* untouched on failure */
	assert_int_equal(f.id, 12345);
	assert_null(f.fields);
}

static void test_parse_malformed(void **state)
{
	char name[1024], *big, *p;
	size_t cap = 64 * 1024, n;

	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(malformed); i++)
		expect_bad(malformed[i].what, malformed[i].text,
			   strlen(malformed[i].text), malformed[i].err);

	expect_bad("NUL byte", HDR "\tfield:int x;\0", sizeof(HDR) + 13, "line 9: NUL byte");

	snprintf(name, sizeof(name), HDR "\tfield:int %0129d;\toffset:8;\tsize:4;\tsigned:1;\n", 0);
	/* 129 zeros: a digit first, so make it a letter */
	p = strstr(name, "int 0");
	p[4] = 'a';
	expect_bad("name of 129 bytes", name, strlen(name), "line 9: field name longer than 128 bytes");

	big = malloc(2 * cap);
	assert_non_null(big);
	n = (size_t)snprintf(big, 2 * cap, HDR "\tfield:");
	memset(big + n, 'u', 257);
	n += 257;
	n += (size_t)snprintf(big + n, 2 * cap - n, " x;\toffset:8;\tsize:4;\tsigned:0;\n");
	expect_bad("type of 257 bytes", big, n, "line 9: type of x longer than 256 bytes");

	/* 257 fields of one byte each */
	n = (size_t)snprintf(big, 2 * cap, "name: ev\nID: 1\n");
	for (int i = 0; i < 257; i++)
		n += (size_t)snprintf(big + n, 2 * cap - n,
				      "\tfield:u8 f%d;\toffset:%d;\tsize:1;\tsigned:0;\n",
				      i, i);
	expect_bad("257 fields", big, n, "line 259: more than 256 fields");

	/* exactly 256 is fine */
	{
		struct vg_tp_format f = {};
		char *cut = strstr(big, "\tfield:u8 f256;");

		assert_int_equal(vg_tp_format_parse(big, (size_t)(cut - big), &f,
						    NULL, 0), 0);
		assert_int_equal(f.n_fields, 256);
		assert_int_equal(f.record_size, 256);
		assert_int_equal(f.common_size, 0);
		vg_tp_format_release(&f);
	}

	memset(big, '\n', cap + 1);
	expect_bad("65537 bytes", big, cap + 1, "more than 65536");
	free(big);
}

static void write_file(int dfd, const char *path, const char *text, size_t len)
{
	int fd = openat(dfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void test_load_errors(void **state)
{
	static const char *const bad_names[][2] = {
		{ "../x", "sched_process_exec" },
		{ "sched", "../sched_switch" },
		{ "sched", "sched_switch/../../x" },
		{ "sched/", "sched_switch" },
		{ "..", "sched" },
		{ "", "sched_switch" },
		{ "sched", "" },
		{ "sched", "sched switch" },
		{ "sched", "sched-switch" },
		{ NULL, "sched_switch" },
	};
	_cleanup_close_ int dfd = fixtures_fd();
	_cleanup_close_ int tfd = -1;
	char tmp[] = "/tmp/test-tpformat-XXXXXX", err[256], *big;
	struct vg_tp_format f = { .id = 99 };
	char name129[130];

	(void)state;
	for (size_t i = 0; i < VG_ARRAY_SIZE(bad_names); i++) {
		assert_int_equal(vg_tp_format_load(dfd, bad_names[i][0],
						   bad_names[i][1], &f, err,
						   sizeof(err)), -EINVAL);
		assert_int_equal(f.id, 99);
	}
	memset(name129, 'a', 129);
	name129[129] = '\0';
	assert_int_equal(vg_tp_format_load(dfd, "sched", name129, &f, err,
					   sizeof(err)), -EINVAL);
	assert_int_equal(vg_tp_format_load(dfd, "sched", "no_such_event", &f,
					   err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "events/sched/no_such_event/format: No such file or directory");

	/* a fake tracefs with odd files */
	assert_non_null(mkdtemp(tmp));
	tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(tfd >= 0);
	assert_int_equal(mkdirat(tfd, "events", 0755), 0);
	assert_int_equal(mkdirat(tfd, "events/g", 0755), 0);
	assert_int_equal(mkdirat(tfd, "events/g/other", 0755), 0);
	assert_int_equal(mkdirat(tfd, "events/g/big", 0755), 0);
	assert_int_equal(mkdirat(tfd, "events/g/bad", 0755), 0);
	write_file(tfd, "events/g/other/format", HDR, strlen(HDR));
	write_file(tfd, "events/g/bad/format", HDR FLD("int x", 8, 0),
		   strlen(HDR FLD("int x", 8, 0)));
	big = malloc(VG_TP_FORMAT_MAX + 1);
	assert_non_null(big);
	memset(big, '\n', VG_TP_FORMAT_MAX + 1);
	write_file(tfd, "events/g/big/format", big, VG_TP_FORMAT_MAX + 1);
	free(big);

	assert_int_equal(vg_tp_format_load(tfd, "g", "other", &f, err,
					   sizeof(err)), -EBADMSG);
	assert_string_equal(err, "events/g/other/format: describes event ev");
	assert_int_equal(vg_tp_format_load(tfd, "g", "big", &f, err,
					   sizeof(err)), -EFBIG);
	assert_int_equal(vg_tp_format_load(tfd, "g", "bad", &f, err,
					   sizeof(err)), -EBADMSG);
	assert_string_equal(err, "events/g/bad/format: line 9: field x: size 0 outside a flexible array");
	assert_int_equal(f.id, 99);

	unlinkat(tfd, "events/g/other/format", 0);
	unlinkat(tfd, "events/g/bad/format", 0);
	unlinkat(tfd, "events/g/big/format", 0);
	unlinkat(tfd, "events/g/other", AT_REMOVEDIR);
	unlinkat(tfd, "events/g/bad", AT_REMOVEDIR);
	unlinkat(tfd, "events/g/big", AT_REMOVEDIR);
	unlinkat(tfd, "events/g", AT_REMOVEDIR);
	unlinkat(tfd, "events", AT_REMOVEDIR);
	assert_int_equal(rmdir(tmp), 0);
}

/* --- decoding ----------------------------------------------------------- */

struct rec {
	uint8_t b[256];
	size_t len;
};

static void put(struct rec *r, size_t off, const void *v, size_t n)
{
	assert_true(off + n <= sizeof(r->b));
	memcpy(r->b + off, v, n);
	if (off + n > r->len)
		r->len = off + n;
}

static void put_u16(struct rec *r, size_t off, uint16_t v) { put(r, off, &v, 2); }
static void put_u32(struct rec *r, size_t off, uint32_t v) { put(r, off, &v, 4); }
static void put_u64(struct rec *r, size_t off, uint64_t v) { put(r, off, &v, 8); }

static void put_header(struct rec *r, uint16_t type, int32_t pid)
{
	memset(r, 0, sizeof(*r));
	put_u16(r, 0, type);
	r->b[2] = 0x01;
	r->b[3] = 0x02;
	put(r, 4, &pid, 4);
}

static void put_data_loc(struct rec *r, size_t off, uint16_t data_off,
			 uint16_t data_len)
{
	put_u32(r, off, (uint32_t)data_len << 16 | data_off);
}

/* The JSON record around a decoded "ev"; caller frees it. */
static char *decode_text(const struct vg_tp_format *f, const void *rec,
			 size_t len)
{
	struct vg_printer *p = vg_printer_new(VG_OUTPUT_JSON);
	char *s;

	assert_non_null(p);
	vg_pr_begin(p);
	vg_pr_str(p, "before", NULL, "x");
	vg_tp_decode(f, rec, len, p, "ev");
	vg_pr_str(p, "after", NULL, "y");
	s = vg_pr_end_string(p);
	assert_non_null(s);
	vg_printer_free(p);
	return s;
}

/* Decode in JSON mode and hand back the "ev" object (and the whole
 * document in *ret_root, which the caller frees). jansson reads integers
 * as int64_t: values above INT64_MAX are checked in decode_text(). */
static json_t *decode(const struct vg_tp_format *f, const void *rec,
		      size_t len, json_t **ret_root)
{
	json_error_t jerr;
	json_t *root, *ev;
	char *s = decode_text(f, rec, len);

	root = json_loads(s, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		fail_msg("%s: %s", s, jerr.text);
	free(s);
	/* the object closed where it should */
	assert_string_equal(json_string_value(json_object_get(root, "after")), "y");
	ev = json_object_get(root, "ev");
	assert_true(json_is_object(ev));
	*ret_root = root;
	return ev;
}

static void load(const char *group, const char *name, struct vg_tp_format *f)
{
	_cleanup_close_ int dfd = fixtures_fd();
	char err[256];

	if (vg_tp_format_load(dfd, group, name, f, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

#define assert_json_int(obj, key, v) \
	assert_true(json_integer_value(json_object_get(obj, key)) == (json_int_t)(v))
#define assert_json_str(obj, key, v) \
	assert_string_equal(json_string_value(json_object_get(obj, key)), v)

static void test_decode_exec(void **state)
{
	struct vg_tp_format f = {};
	struct rec r;
	json_t *root, *ev;
	int32_t pid = 4242, old_pid = -5;
	static const char path[] = "/usr/bin/tr\xc3\xbc\"e";

	(void)state;
	load("sched", "sched_process_exec", &f);

	put_header(&r, 365, 4242);
	put_data_loc(&r, 8, 20, sizeof(path));
	put(&r, 12, &pid, 4);
	put(&r, 16, &old_pid, 4);
	put(&r, 20, path, sizeof(path));
	ev = decode(&f, r.b, r.len, &root);
	assert_int_equal(json_object_size(ev), 3); /* no common_* */
	assert_json_str(ev, "filename", path);
	assert_json_int(ev, "pid", 4242);
	assert_json_int(ev, "old_pid", -5);
	assert_null(json_object_get(ev, "_error"));
	json_decref(root);

	/* a string that fills its data without a NUL, and one empty */
	put_data_loc(&r, 8, 20, 4);
	ev = decode(&f, r.b, r.len, &root);
	assert_json_str(ev, "filename", "/usr");
	json_decref(root);
	put_data_loc(&r, 8, 20, 0);
	ev = decode(&f, r.b, r.len, &root);
	assert_json_str(ev, "filename", "");
	json_decref(root);

	/* data ending exactly at the record's end is inside it */
	put_data_loc(&r, 8, (uint16_t)(r.len - 1), 1);
	ev = decode(&f, r.b, r.len, &root);
	assert_json_str(ev, "filename", "");
	assert_null(json_object_get(ev, "_error"));
	json_decref(root);

	/* one byte past it is not */
	put_data_loc(&r, 8, 20, sizeof(path) + 1);
	ev = decode(&f, r.b, r.len, &root);
	assert_true(json_is_null(json_object_get(ev, "filename")));
	assert_json_int(ev, "pid", 4242);
	assert_json_str(ev, "_error",
			"filename: __data_loc data at 20+17 is outside the 36-byte record");
	json_decref(root);

	/* an offset far outside */
	put_data_loc(&r, 8, 0xffff, 0xffff);
	ev = decode(&f, r.b, r.len, &root);
	assert_true(json_is_null(json_object_get(ev, "filename")));
	assert_non_null(strstr(json_string_value(json_object_get(ev, "_error")),
			       "filename: __data_loc data at 65535+65535"));
	json_decref(root);

	/* cut inside pid: filename's payload is gone too */
	put_data_loc(&r, 8, 20, sizeof(path));
	ev = decode(&f, r.b, 14, &root);
	assert_true(json_is_null(json_object_get(ev, "filename")));
	assert_true(json_is_null(json_object_get(ev, "pid")));
	assert_true(json_is_null(json_object_get(ev, "old_pid")));
	assert_json_str(ev, "_error", "record of 14 bytes, the format's is 20");
	json_decref(root);

	/* nothing at all */
	ev = decode(&f, NULL, 0, &root);
	assert_int_equal(json_object_size(ev), 4);
	assert_true(json_is_null(json_object_get(ev, "pid")));
	json_decref(root);

	vg_tp_format_release(&f);
}

static void test_decode_openat(void **state)
{
	struct vg_tp_format f = {};
	struct rec r;
	json_t *root, *ev;
	int32_t nr = 257;
	char *text;
	const char *hash;

	(void)state;
	load("syscalls", "sys_enter_openat", &f);
	put_header(&r, 782, 1);
	put(&r, 8, &nr, 4);
	put_u32(&r, 12, 0xdeadbeef); /* padding: never shown */
	put_u64(&r, 16, (uint64_t)-100); /* AT_FDCWD, widened unsigned */
	put_u64(&r, 24, UINT64_C(0x7ffd12345678));
	put_u64(&r, 32, 0x241);
	put_u64(&r, 40, 0644);
	/* filename is a pointer ("const char *"): hashed by default, never
	 * the address itself */
	text = decode_text(&f, r.b, r.len);
	hash = strstr(text, "\"filename\":\"hash:");
	assert_non_null(hash);
	hash += strlen("\"filename\":\"hash:");
	assert_int_equal(strspn(hash, "0123456789abcdef"), 16);
	assert_string_equal(hash + 16, "\",\"flags\":577,\"mode\":420},\"after\":\"y\"}");
	assert_null(strstr(text, "12345678"));
	free(text);
	/* the same address hashes the same; --raw-pointers shows it */
	vg_tp_set_raw_pointers(true);
	text = decode_text(&f, r.b, r.len);
	assert_string_equal(text, "{\"before\":\"x\",\"ev\":{\"__syscall_nr\":257,"
			    "\"dfd\":18446744073709551516,"
			    "\"filename\":\"0x7ffd12345678\",\"flags\":577,"
			    "\"mode\":420},\"after\":\"y\"}");
	free(text);
	put_u64(&r, 16, 3);
	ev = decode(&f, r.b, r.len, &root);
	assert_int_equal(json_object_size(ev), 5);
	assert_json_int(ev, "__syscall_nr", 257);
	assert_json_int(ev, "dfd", 3);
	assert_json_str(ev, "filename", "0x7ffd12345678");
	assert_json_int(ev, "flags", 0x241);
	assert_json_int(ev, "mode", 0644);
	assert_null(json_object_get(ev, "_error"));
	json_decref(root);

	/* cut at 32: flags and mode are missing, the rest is read */
	ev = decode(&f, r.b, 32, &root);
	assert_json_str(ev, "filename", "0x7ffd12345678");
	assert_true(json_is_null(json_object_get(ev, "flags")));
	assert_true(json_is_null(json_object_get(ev, "mode")));
	assert_json_str(ev, "_error", "record of 32 bytes, the format's is 48");
	json_decref(root);
	vg_tp_set_raw_pointers(false);
	vg_tp_format_release(&f);
}

static void test_decode_arrays(void **state)
{
	struct vg_tp_format f = {};
	struct rec r;
	json_t *root, *ev, *a;
	int64_t id = -1;
	static const char comm[16] = "0123456789abcdef"; /* no NUL */

	(void)state;
	load("raw_syscalls", "sys_enter", &f);
	put_header(&r, 443, 1);
	put(&r, 8, &id, 8);
	for (int i = 0; i < 6; i++)
		put_u64(&r, 16 + 8 * (size_t)i, (uint64_t)i * 1000 + 1);
	ev = decode(&f, r.b, r.len, &root);
	assert_json_int(ev, "id", -1);
	a = json_object_get(ev, "args");
	assert_int_equal(json_array_size(a), 6);
	assert_true(json_integer_value(json_array_get(a, 5)) == 5001);
	json_decref(root);
	vg_tp_format_release(&f);

	load("sched", "sched_switch", &f);
	put_header(&r, 372, 1);
	put(&r, 8, comm, 16);
	put(&r, 40, "sw\napper\0junk", 13);
	put_u64(&r, 32, (uint64_t)-2);
	put_u32(&r, 60, 120);
	ev = decode(&f, r.b, r.len, &root);
	assert_json_str(ev, "prev_comm", "0123456789abcdef");
	assert_json_str(ev, "next_comm", "sw\napper");
	assert_json_int(ev, "prev_state", -2);
	assert_json_int(ev, "next_prio", 120);
	json_decref(root);
	vg_tp_format_release(&f);

	/* __data_loc arrays of u64 and unsigned int */
	load("dma", "dma_map_sg", &f);
	put_header(&r, 431, 1);
	put_data_loc(&r, 8, 48, 4);
	put(&r, 48, "sda", 4);
	put_data_loc(&r, 24, 56, 16);
	put_u64(&r, 56, UINT64_C(0x1000));
	put_u64(&r, 64, UINT64_C(0x7fffffffffffffff));
	put_data_loc(&r, 28, 56, 0);
	put_data_loc(&r, 32, 72, 6); /* not whole elements */
	r.b[20] = 1;
	put_u64(&r, 40, 0);
	r.len = 80;
	ev = decode(&f, r.b, r.len, &root);
	assert_json_str(ev, "device", "sda");
	a = json_object_get(ev, "phys_addrs");
	assert_int_equal(json_array_size(a), 2);
	assert_true(json_integer_value(json_array_get(a, 0)) == 0x1000);
	assert_true(json_integer_value(json_array_get(a, 1)) == INT64_MAX);
	assert_int_equal(json_array_size(json_object_get(ev, "dma_addrs")), 0);
	assert_true(json_is_null(json_object_get(ev, "lengths")));
	assert_json_str(ev, "_error",
			"lengths: __data_loc length 6 is not a multiple of 4");
	assert_json_int(ev, "truncated", 1);
	json_decref(root);
	vg_tp_format_release(&f);
}

static void test_decode_shapes(void **state)
{
	static const char text[] = HDR
		"\tfield:__rel_loc char[] msg;\toffset:8;\tsize:4;\tsigned:0;\n"
		"\tfield:s8 small;\toffset:12;\tsize:1;\tsigned:1;\n"
		"\tfield:short s[2];\toffset:14;\tsize:4;\tsigned:1;\n"
		"\tfield:struct foo blob;\toffset:18;\tsize:3;\tsigned:1;\n"
		"\tfield:u32 tail[];\toffset:24;\tsize:0;\tsigned:0;\n" PRINT;
	struct vg_tp_format f = {};
	struct rec r;
	json_t *root, *ev, *a;
	int16_t s[2] = { -300, 300 };
	char err[256];

	(void)state;
	if (vg_tp_format_parse(text, strlen(text), &f, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	put_header(&r, 7, 1);
	/* relative to the end of msg (offset 12): the data at 24 */
	put_data_loc(&r, 8, 12, 3);
	r.b[12] = 0x80;
	put(&r, 14, s, 4);
	put(&r, 18, "\xff\x01\x02", 3);
	put(&r, 24, "hi", 3);
	put_u32(&r, 28, 77); /* tail: "hi\0" + one padding byte, then 77 */
	ev = decode(&f, r.b, r.len, &root);
	assert_json_str(ev, "msg", "hi");
	assert_json_int(ev, "small", -128);
	a = json_object_get(ev, "s");
	assert_true(json_integer_value(json_array_get(a, 0)) == -300);
	assert_true(json_integer_value(json_array_get(a, 1)) == 300);
	/* bytes of an unknown type are never signed */
	a = json_object_get(ev, "blob");
	assert_int_equal(json_array_size(a), 3);
	assert_true(json_integer_value(json_array_get(a, 0)) == 255);
	a = json_object_get(ev, "tail");
	assert_int_equal(json_array_size(a), 2);
	assert_true(json_integer_value(json_array_get(a, 1)) == 77);
	assert_null(json_object_get(ev, "_error"));
	json_decref(root);

	/* a rel_loc is bounded like a data_loc */
	put_data_loc(&r, 8, 20, 3);
	ev = decode(&f, r.b, r.len, &root);
	assert_true(json_is_null(json_object_get(ev, "msg")));
	assert_json_str(ev, "_error",
			"msg: __rel_loc data at 32+3 is outside the 32-byte record");
	json_decref(root);

	/* a flexible array that starts past the end */
	ev = decode(&f, r.b, 21, &root);
	assert_true(json_is_null(json_object_get(ev, "tail")));
	json_decref(root);
	vg_tp_format_release(&f);
}

/* Text mode: each field under its name, arrays on one line. */
static void test_decode_text(void **state)
{
	struct vg_printer *p = vg_printer_new(VG_OUTPUT_TEXT);
	struct vg_tp_format f = {};
	struct rec r;
	char *s;

	(void)state;
	load("raw_syscalls", "sys_enter", &f);
	put_header(&r, 443, 1);
	put_u64(&r, 8, 59);
	for (int i = 0; i < 6; i++)
		put_u64(&r, 16 + 8 * (size_t)i, (uint64_t)i);
	vg_pr_begin(p);
	vg_tp_decode(&f, r.b, r.len, p, "ev");
	s = vg_pr_end_string(p);
	assert_string_equal(s, "id               59\n"
			       "args             0 1 2 3 4 5\n");
	free(s);

	vg_pr_begin(p);
	vg_tp_decode(&f, r.b, 20, p, "ev");
	s = vg_pr_end_string(p);
	assert_string_equal(s, "id               59\n"
			       "args             -\n"
			       "decode error     record of 20 bytes, the format's is 64\n");
	free(s);
	vg_tp_format_release(&f);
	vg_printer_free(p);
}

/* Pointer-typed fields (and arrays of pointers) are kernel addresses:
 * hashed with this process's key unless raw pointers are asked for; an
 * integer that happens to hold an address is an integer. */
static void test_decode_pointers(void **state)
{
	static const char text[] = HDR
		"\tfield:void * a;\toffset:8;\tsize:8;\tsigned:0;\n"
		"\tfield:const void * b;\toffset:16;\tsize:8;\tsigned:0;\n"
		"\tfield:struct task_struct * c;\toffset:24;\tsize:8;\tsigned:0;\n"
		"\tfield:void * none;\toffset:32;\tsize:8;\tsigned:0;\n"
		"\tfield:void * st[2];\toffset:40;\tsize:16;\tsigned:0;\n"
		"\tfield:unsigned long call_site;\toffset:56;\tsize:8;\tsigned:0;\n"
		PRINT;
	const uint64_t k1 = UINT64_C(0xffff8881deadbeef), k2 = UINT64_C(0xffff8881deadbef0);
	struct vg_tp_format f = {};
	struct vg_printer *p;
	struct rec r;
	json_t *root, *ev, *st;
	const char *a, *b, *c;
	char err[256], *line;
	bool ok;

	(void)state;
	if (vg_tp_format_parse(text, strlen(text), &f, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	put_header(&r, 7, 1);
	put_u64(&r, 8, k1);
	put_u64(&r, 16, k1);
	put_u64(&r, 24, k2);
	put_u64(&r, 32, 0);
	put_u64(&r, 40, k2);
	put_u64(&r, 48, 0);
	put_u64(&r, 56, 0x1234);
	ev = decode(&f, r.b, r.len, &root);
	a = json_string_value(json_object_get(ev, "a"));
	b = json_string_value(json_object_get(ev, "b"));
	c = json_string_value(json_object_get(ev, "c"));
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(strlen(a), 21);
	assert_true(strncmp(a, "hash:", 5) == 0);
	{
		char hexpart[32];

		snprintf(hexpart, sizeof(hexpart), "%s", a + 5);
		assert_int_equal(strspn(hexpart, "0123456789abcdef"), 16);
	}
	/* equal addresses compare equal, others differ; none is shown */
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_null(strstr(a, "deadbe"));
	assert_null(strstr(c, "deadbe"));
	{
		char want[32];
		uint64_t h = vg_tp_pointer_hash(k1, &ok);

		assert_true(ok);
		snprintf(want, sizeof(want), "hash:%016llx", (unsigned long long)h);
		assert_string_equal(a, want);
	}
	assert_json_str(ev, "none", "0x0"); /* NULL is no address */
	st = json_object_get(ev, "st");
	assert_int_equal(json_array_size(st), 2);
	assert_string_equal(json_string_value(json_array_get(st, 0)), c);
	assert_string_equal(json_string_value(json_array_get(st, 1)), "0x0");
	assert_json_int(ev, "call_site", 0x1234);
	json_decref(root);

	/* the same in a text line */
	p = vg_printer_new(VG_OUTPUT_TEXT);
	assert_non_null(p);
	vg_pr_begin(p);
	vg_tp_decode_line(&f, r.b, r.len, p);
	line = vg_pr_end_string(p);
	assert_non_null(line);
	assert_null(strstr(line, "deadbe"));
	assert_non_null(strstr(line, " none=0x0 "));
	free(line);

	/* --raw-pointers */
	vg_tp_set_raw_pointers(true);
	ev = decode(&f, r.b, r.len, &root);
	assert_json_str(ev, "a", "0xffff8881deadbeef");
	assert_json_str(ev, "c", "0xffff8881deadbef0");
	assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "st"), 0)),
			    "0xffff8881deadbef0");
	json_decref(root);
	vg_pr_begin(p);
	vg_tp_decode_line(&f, r.b, r.len, p);
	line = vg_pr_end_string(p);
	assert_string_equal(line, " a=0xffff8881deadbeef b=0xffff8881deadbeef "
			    "c=0xffff8881deadbef0 none=0x0 "
			    "st=[0xffff8881deadbef0 0x0] call_site=4660");
	free(line);
	vg_tp_set_raw_pointers(false);
	vg_printer_free(p);
	vg_tp_format_release(&f);
}

/* A text line of fields: strings from the record are values (quoted and
 * escaped when they must be), so a field cannot forge another. */
static void test_decode_line(void **state)
{
	static const char text[] = HDR
		"\tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:0;\n"
		"\tfield:int uid;\toffset:24;\tsize:4;\tsigned:1;\n"
		"\tfield:__data_loc char[] msg;\toffset:28;\tsize:4;\tsigned:0;\n"
		"\tfield:short s[3];\toffset:32;\tsize:6;\tsigned:1;\n"
		PRINT;
	struct vg_tp_format f = {};
	struct vg_printer *p = vg_printer_new(VG_OUTPUT_TEXT);
	int16_t sh[3] = { -1, 0, 2 };
	struct rec r;
	char err[256], *line;

	(void)state;
	if (vg_tp_format_parse(text, strlen(text), &f, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	put_header(&r, 7, 1);
	put(&r, 8, "x uid=0", 8);
	put_u32(&r, 24, 1000);
	put_data_loc(&r, 28, 40, 10);
	put(&r, 32, sh, 6);
	put(&r, 40, "a\nb\xe2\x80\xae" "c\"d", 10);
	vg_pr_begin(p);
	vg_tp_decode_line(&f, r.b, r.len, p);
	line = vg_pr_end_string(p);
	assert_string_equal(line, " comm=\"x uid=0\" uid=1000 "
			    "msg=\"a\\nb\\u{202e}c\\\"d\" s=[-1 0 2]");
	free(line);
	/* cut short: missing fields are "-", the error a quoted value */
	vg_pr_begin(p);
	vg_tp_decode_line(&f, r.b, 26, p);
	line = vg_pr_end_string(p);
	assert_string_equal(line, " comm=\"x uid=0\" uid=- msg=- s=- "
			    "_error=\"record of 26 bytes, the format's is 38\"");
	free(line);
	vg_printer_free(p);
	vg_tp_format_release(&f);
}

/* Every format of the running kernel, where tracefs can be read: the
 * system's, or (a fresh host) a private one. */
static void test_real_tracefs(void **state)
{
	struct vg_tracefs t;
	char why[512];
	int tfd, efd;
	size_t n = 0;
	DIR *groups;
	struct dirent *g;

	(void)state;
	vg_tracefs_init(&t);
	if (vg_tracefs_ensure(&t, why, sizeof(why)) < 0) {
		printf("SKIP: %s\n", why);
		skip();
	}
	tfd = dup(t.fd);
	vg_tracefs_release(&t);
	efd = openat(tfd, "events", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (efd < 0) {
		printf("SKIP: tracefs events: %s\n", strerror(errno));
		close(tfd);
		skip();
	}
	groups = fdopendir(dup(efd));
	assert_non_null(groups);
	while ((g = readdir(groups))) {
		int gfd;
		DIR *events;
		struct dirent *e;

		if (g->d_name[0] == '.' || g->d_type != DT_DIR)
			continue;
		gfd = openat(efd, g->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (gfd < 0)
			continue;
		events = fdopendir(gfd);
		assert_non_null(events);
		while ((e = readdir(events))) {
			struct vg_tp_format f = {};
			char err[512];
			int r;

			if (e->d_name[0] == '.' || e->d_type != DT_DIR)
				continue;
			r = vg_tp_format_load(tfd, g->d_name, e->d_name, &f,
					      err, sizeof(err));
			/* names outside [A-Za-z0-9_] are refused, by design */
			if (r == -EINVAL)
				continue;
			if (r < 0)
				fail_msg("%s/%s: %s", g->d_name, e->d_name, err);
			assert_true(f.record_size >= f.common_size);
			vg_tp_format_release(&f);
			n++;
		}
		closedir(events);
	}
	closedir(groups);
	close(efd);
	close(tfd);
	printf("parsed %zu tracepoint formats\n", n);
	assert_true(n > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_fixtures),
		cmocka_unit_test(test_parse_shapes),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_decode_exec),
		cmocka_unit_test(test_decode_openat),
		cmocka_unit_test(test_decode_arrays),
		cmocka_unit_test(test_decode_shapes),
		cmocka_unit_test(test_decode_text),
		cmocka_unit_test(test_decode_pointers),
		cmocka_unit_test(test_decode_line),
		cmocka_unit_test(test_real_tracefs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
