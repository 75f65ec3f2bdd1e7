// SPDX-License-Identifier: Apache-2.0
/* A growable string buffer with JSON writers: the fast path for large replies and events. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"

void sb_init(struct sbuf *s, size_t cap)
{
	s->len = 0;
	s->cap = cap ? cap : 64;
	s->buf = malloc(s->cap);
	if (!s->buf)
		abort();
	s->buf[0] = 0;
}

void sb_free(struct sbuf *s)
{
	free(s->buf);
	s->buf = NULL;
	s->len = s->cap = 0;
}

void sb_grow(struct sbuf *s, size_t extra)
{
	if (s->len + extra + 1 <= s->cap)
		return;
	size_t ncap = s->cap * 2;
	while (ncap < s->len + extra + 1)
		ncap *= 2;
	char *nb = realloc(s->buf, ncap);
	if (!nb)
		abort(); /* out of memory: nothing sane left to do */
	s->buf = nb;
	s->cap = ncap;
}

void sb_putn(struct sbuf *s, const char *p, size_t n)
{
	sb_grow(s, n);
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = 0;
}

void sb_puts(struct sbuf *s, const char *p) { sb_putn(s, p, strlen(p)); }

void sb_putc(struct sbuf *s, char c)
{
	sb_grow(s, 1);
	s->buf[s->len++] = c;
	s->buf[s->len] = 0;
}

void sb_printf(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= s->cap - s->len) {
		sb_grow(s, n);
		va_start(ap, fmt);
		vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
		va_end(ap);
	}
	s->len += n;
}

void sb_u64(struct sbuf *s, uint64_t v)
{
	char tmp[24];
	int i = sizeof(tmp);
	do {
		tmp[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	sb_putn(s, tmp + i, sizeof(tmp) - i);
}

void sb_i64(struct sbuf *s, int64_t v)
{
	if (v < 0) {
		sb_putc(s, '-');
		sb_u64(s, (uint64_t)0 - (uint64_t)v);
	} else {
		sb_u64(s, v);
	}
}

#define MAX_SAFE_INT 9007199254740991ULL
void sb_json_u64(struct sbuf *s, uint64_t v)
{
	if (v <= MAX_SAFE_INT) {
		sb_u64(s, v);
	} else {
		sb_putc(s, '"');
		sb_u64(s, v);
		sb_putc(s, '"');
	}
}

void sb_json_i64(struct sbuf *s, int64_t v)
{
	if (v >= -(int64_t)MAX_SAFE_INT && v <= (int64_t)MAX_SAFE_INT) {
		sb_i64(s, v);
	} else {
		sb_putc(s, '"');
		sb_i64(s, v);
		sb_putc(s, '"');
	}
}

/* JSON string from bytes; valid UTF-8 passes through, other bytes become \u00XX. */
void sb_json_strn(struct sbuf *s, const char *p, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)p;
	sb_grow(s, n + 2);
	sb_putc(s, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = u[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			/* copy the whole run of plain characters at once */
			size_t j = i + 1;
			while (j < n && u[j] >= 0x20 && u[j] < 0x7f && u[j] != '"' && u[j] != '\\')
				j++;
			sb_putn(s, p + i, j - i);
			i = j - 1;
			continue;
		}
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			sb_putn(s, e, 2);
		} else if (c == '\n') {
			sb_putn(s, "\\n", 2);
		} else if (c == '\t') {
			sb_putn(s, "\\t", 2);
		} else if (c == '\r') {
			sb_putn(s, "\\r", 2);
		} else if (c >= 0x80) {
			/* copy a well-formed UTF-8 sequence as is */
			int len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
			bool ok = len && i + len <= n && c >= 0xc2 && c <= 0xf4;
			for (int k = 1; ok && k < len; k++)
				ok = (u[i + k] & 0xc0) == 0x80;
			if (ok) {
				sb_putn(s, p + i, len);
				i += len - 1;
			} else {
				char e[6] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15]};
				sb_putn(s, e, 6);
			}
		} else {
			char e[6] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15]};
			sb_putn(s, e, 6);
		}
	}
	sb_putc(s, '"');
	s->buf[s->len] = 0;
}

void sb_json_str(struct sbuf *s, const char *p) { sb_json_strn(s, p, strlen(p)); }

void sb_hex(struct sbuf *s, const void *p, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	const unsigned char *u = p;
	sb_grow(s, 2 * n + 2);
	s->buf[s->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		s->buf[s->len++] = hexd[u[i] >> 4];
		s->buf[s->len++] = hexd[u[i] & 15];
	}
	s->buf[s->len++] = '"';
	s->buf[s->len] = 0;
}

static int sb_dump_cb(const char *buffer, size_t size, void *data)
{
	sb_putn(data, buffer, size);
	return 0;
}

void sb_json(struct sbuf *s, const json_t *j)
{
	json_dump_callback(j, sb_dump_cb, s, JSON_COMPACT | JSON_ENCODE_ANY);
}
