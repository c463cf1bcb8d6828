/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "render/escape.h"

#include <string.h>

size_t vg_utf8_decode(const unsigned char *s, size_t left, uint32_t *ret_cp)
{
	unsigned c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80) {
		*ret_cp = c;
		return 1;
	}
	if ((c >> 5) == 6)
		n = 2, cp = c & 0x1f;
	else if ((c >> 4) == 14)
		n = 3, cp = c & 0x0f;
	else if ((c >> 3) == 30)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] >> 6) != 2)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, past U+10FFFF */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return n;
}

size_t vg_utf8_seq(const unsigned char *s, size_t left)
{
	uint32_t cp;

	return vg_utf8_decode(s, left, &cp);
}

bool vg_unicode_hidden(uint32_t cp)
{
	if (cp < 0xa0)
		return cp >= 0x80;
	if (cp < 0x2000)
		return cp == 0xad || cp == 0x61c || cp == 0x180e;
	if (cp <= 0x206f)
		return (cp >= 0x200b && cp <= 0x200f) ||
		       (cp >= 0x2028 && cp <= 0x202e) || cp >= 0x2060;
	if (cp < 0xfeff)
		return false;
	return cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) ||
	       (cp >= 0xe0000 && cp <= 0xe007f);
}

/* Bytes written as they are: printable ASCII but for '\\' (and '"',
 * which the quoted form escapes: see plain_in()). */
static const bool esc_plain[256] = {
	[0x20 ... 0x5b] = true, [0x5d ... 0x7e] = true,
};

/* Bytes a bare value may hold: printable ASCII but for space, '"', '=',
 * '[', '\\' and ']'. */
static const bool bare_ok[256] = {
	[0x21] = true, [0x23 ... 0x3c] = true, [0x3e ... 0x5a] = true,
	[0x5e ... 0x7e] = true,
};

static const char hex[] = "0123456789abcdef";

static inline bool plain_in(unsigned char c, bool quoted)
{
	return esc_plain[c] && !(quoted && c == '"');
}

/* The escape of the one character at @u (of @left bytes) into @out
 * (room for 16). Returns the bytes of @u it took; *@ret_n is what was
 * written, *@invalid set when the byte is not part of valid UTF-8. */
static size_t esc_one(char *out, const unsigned char *u, size_t left,
		      size_t *ret_n, bool *invalid)
{
	unsigned char c = u[0];
	uint32_t cp;
	size_t n;

	out[0] = '\\';
	switch (c) {
	case '\\':
	case '"':
		out[1] = (char)c;
		*ret_n = 2;
		return 1;
	case '\n':
		out[1] = 'n';
		*ret_n = 2;
		return 1;
	case '\t':
		out[1] = 't';
		*ret_n = 2;
		return 1;
	case '\r':
		out[1] = 'r';
		*ret_n = 2;
		return 1;
	}
	if (c >= 0x80 && (n = vg_utf8_decode(u, left, &cp)) > 0) {
		size_t o = 3;
		int digits = cp > 0xffff ? (cp > 0xfffff ? 6 : 5) : 4;

		if (!vg_unicode_hidden(cp)) {
			memcpy(out, u, n);
			*ret_n = n;
			return n;
		}
		out[1] = 'u';
		out[2] = '{';
		for (int d = digits - 1; d >= 0; d--)
			out[o++] = hex[(cp >> (4 * d)) & 15];
		out[o++] = '}';
		*ret_n = o;
		return n;
	}
	if (c >= 0x80)
		*invalid = true;
	out[1] = 'x';
	out[2] = hex[c >> 4];
	out[3] = hex[c & 15];
	*ret_n = 4;
	return 1;
}

/* vg_text_escape(), and whether all of it was valid UTF-8. */
static size_t escape(char *out, const unsigned char *u, size_t len,
		     bool quoted, bool *invalid)
{
	size_t i = 0, o = 0;

	while (i < len) {
		size_t run = i, n;

		while (i < len && plain_in(u[i], quoted))
			i++;
		if (i > run) {
			memcpy(out + o, u + run, i - run);
			o += i - run;
			continue;
		}
		i += esc_one(out + o, u + i, len - i, &n, invalid);
		o += n;
	}
	return o;
}

size_t vg_text_escape(char *out, const char *s, size_t len, bool quoted)
{
	bool invalid = false;

	return escape(out, (const unsigned char *)s, len, quoted, &invalid);
}

bool vg_text_bare(const char *s, size_t len, char sep)
{
	const unsigned char *u = (const unsigned char *)s;

	if (!len || (len == 1 && (s[0] == '-' || s[0] == '?')))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!bare_ok[u[i]] || (sep && u[i] == (unsigned char)sep))
			return false;
	return true;
}

size_t vg_text_value(char *out, const char *s, size_t len, char sep)
{
	size_t o;

	if (vg_text_bare(s, len, sep)) {
		memcpy(out, s, len);
		return len;
	}
	out[0] = '"';
	o = 1 + vg_text_escape(out + 1, s, len, true);
	out[o++] = '"';
	return o;
}

char *vg_text_escape_buf(char *buf, size_t bufsz, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0, len = strlen(s), i = 0;
	bool invalid = false;

	if (!bufsz)
		return buf;
	while (i < len) {
		char one[16];
		size_t n, took;

		if (esc_plain[u[i]]) {
			one[0] = (char)u[i];
			n = 1, took = 1;
		} else {
			took = esc_one(one, u + i, len - i, &n, &invalid);
		}
		if (o + n >= bufsz)
			break;
		memcpy(buf + o, one, n);
		o += n;
		i += took;
	}
	buf[o] = '\0';
	return buf;
}

bool vg_fputs_escaped(FILE *f, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), i = 0;
	bool invalid = false;
	char chunk[1024];

	/* in pieces that end between characters: an escape never spans two */
	while (i < len) {
		size_t o = 0;

		while (i < len && o + 16 <= sizeof(chunk)) {
			size_t n;

			if (esc_plain[u[i]]) {
				chunk[o++] = (char)u[i++];
				continue;
			}
			i += esc_one(chunk + o, u + i, len - i, &n, &invalid);
			o += n;
		}
		fwrite(chunk, 1, o, f);
	}
	return !invalid;
}

bool vg_utf8_valid(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s);

	while (*u) {
		size_t n = vg_utf8_seq(u, len);

		if (!n)
			return false;
		u += n;
		len -= n;
	}
	return true;
}

char *vg_text_value_buf(char *buf, size_t bufsz, const char *s, char sep)
{
	size_t n = strlen(s), w;

	if (bufsz < VG_ESC_GROWTH + 3) {
		if (bufsz)
			buf[0] = '\0';
		return buf;
	}
	if (n > (bufsz - 3) / VG_ESC_GROWTH)
		n = (bufsz - 3) / VG_ESC_GROWTH;
	w = vg_text_value(buf, s, n, sep);
	buf[w] = '\0';
	return buf;
}
