/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "render/escape.h"

#include <stddef.h>

size_t vg_utf8_seq(const unsigned char *s, size_t left)
{
	unsigned c = s[0];
	size_t n;
	unsigned cp;

	if (c < 0x80)
		return 1;
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
	return n;
}

/* NUL-terminated: a sequence never runs past the NUL, which is not a
 * continuation byte. */
static size_t utf8_len(const unsigned char *s)
{
	return vg_utf8_seq(s, 4);
}

static bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\';
}

bool vg_fputs_escaped(FILE *f, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	bool utf8 = true;

	while (*u) {
		const unsigned char *run = u;
		size_t n;

		while (plain(*u))
			u++;
		if (u > run) {
			fwrite(run, 1, (size_t)(u - run), f);
			continue;
		}
		if (*u == '\\')
			fputs("\\\\", f);
		else if (*u == '\n')
			fputs("\\n", f);
		else if (*u == '\t')
			fputs("\\t", f);
		else if (*u == '\r')
			fputs("\\r", f);
		else if (*u >= 0x80 && (n = utf8_len(u)) > 0) {
			fwrite(u, 1, n, f);
			u += n;
			continue;
		} else {
			if (*u >= 0x80)
				utf8 = false;
			fprintf(f, "\\x%02x", *u);
		}
		u++;
	}
	return utf8;
}

bool vg_utf8_valid(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		size_t n = utf8_len(u);

		if (!n)
			return false;
		u += n;
	}
	return true;
}
