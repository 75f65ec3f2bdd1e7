// SPDX-License-Identifier: Apache-2.0
/*
 * BTF-typed values -> JSON, and BTF type names. Structs and unions become objects (anonymous members are
 * flattened), arrays become arrays, char arrays become strings, enums their value's name,
 * integers numbers (decimal strings past 2^53), pointers "0x..." strings, anything without
 * a type a hex string. btf_parse.c reads the same JSON back for map_update/map_delete.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "agent.h"

uint32_t btf_skip_mods(const struct btf *btf, uint32_t id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	while (t && (btf_is_mod(t) || btf_is_typedef(t))) {
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	return id;
}

bool btf_is_char(const struct btf *btf, uint32_t id)
{
	const struct btf_type *t = btf__type_by_id(btf, btf_skip_mods(btf, id));
	if (!t || !btf_is_int(t) || t->size != 1)
		return false;
	return (btf_int_encoding(t) & BTF_INT_CHAR) || !strcmp(btf__name_by_offset(btf, t->name_off), "char");
}

static uint64_t read_uint(const void *p, size_t size)
{
	uint64_t v = 0;
	memcpy(&v, p, size > 8 ? 8 : size); /* little-endian host */
	return v;
}

static void int_json(struct sbuf *s, const struct btf_type *t, const void *data, uint32_t bit_off, uint32_t nbits)
{
	uint8_t enc = btf_int_encoding(t);
	if (!nbits)
		nbits = btf_int_bits(t);
	bit_off += btf_int_offset(t);
	if (nbits > 64) {
		/* 128-bit integers: hex, most significant byte first */
		char tmp[40];
		const unsigned char *u = (const unsigned char *)data + bit_off / 8;
		int k = 0;
		k += snprintf(tmp + k, sizeof(tmp) - k, "\"0x");
		for (int i = (int)(nbits / 8) - 1; i >= 0; i--)
			k += snprintf(tmp + k, sizeof(tmp) - k, "%02x", u[i]);
		sb_puts(s, tmp);
		sb_putc(s, '"');
		return;
	}
	uint64_t v;
	if (bit_off % 8 == 0 && (nbits % 8 == 0)) {
		v = read_uint((const char *)data + bit_off / 8, nbits / 8);
	} else {
		/* a bitfield: read the covering bytes and shift */
		unsigned char buf[16] = {};
		memcpy(buf, (const char *)data + bit_off / 8, (bit_off % 8 + nbits + 7) / 8);
		unsigned __int128 w = 0;
		memcpy(&w, buf, sizeof(buf));
		v = (uint64_t)(w >> (bit_off % 8));
	}
	if (nbits < 64)
		v &= (1ULL << nbits) - 1;
	if (enc & BTF_INT_BOOL) {
		sb_puts(s, v ? "true" : "false");
	} else if (enc & BTF_INT_SIGNED) {
		int64_t sv = nbits < 64 && (v >> (nbits - 1)) ? (int64_t)(v | ~((1ULL << nbits) - 1)) : (int64_t)v;
		sb_json_i64(s, sv);
	} else {
		sb_json_u64(s, v);
	}
}

static void value_json(struct sbuf *s, const struct btf *btf, uint32_t id, const char *data, uint32_t bit_off,
		       uint32_t nbits, int depth);

static void members_json(struct sbuf *s, const struct btf *btf, const struct btf_type *t, const char *data,
			 bool *first, int depth)
{
	const struct btf_member *m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		uint32_t off = btf_member_bit_offset(t, i), bsz = btf_member_bitfield_size(t, i);
		const char *name = btf__name_by_offset(btf, m->name_off);
		const struct btf_type *mt = btf__type_by_id(btf, btf_skip_mods(btf, m->type));
		if ((!name || !*name) && mt && btf_is_composite(mt)) {
			members_json(s, btf, mt, data + off / 8, first, depth + 1); /* anonymous: flatten */
			continue;
		}
		if (!*first)
			sb_putc(s, ',');
		*first = false;
		sb_json_str(s, name && *name ? name : "_");
		sb_putc(s, ':');
		if (bsz)
			value_json(s, btf, m->type, data, off, bsz, depth + 1);
		else
			value_json(s, btf, m->type, data + off / 8, off % 8, 0, depth + 1);
	}
}

static void value_json(struct sbuf *s, const struct btf *btf, uint32_t id, const char *data, uint32_t bit_off,
		       uint32_t nbits, int depth)
{
	id = btf_skip_mods(btf, id);
	const struct btf_type *t = btf__type_by_id(btf, id);
	if (!t || depth > 32) {
		sb_puts(s, "null");
		return;
	}
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		int_json(s, t, data, bit_off, nbits);
		return;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64: {
		/* enums print the value's name when one matches, else the number */
		uint64_t v;
		if (nbits) {
			unsigned __int128 w = 0;
			memcpy(&w, data + bit_off / 8, (bit_off % 8 + nbits + 7) / 8);
			v = (uint64_t)(w >> (bit_off % 8)) & (nbits < 64 ? (1ULL << nbits) - 1 : ~0ULL);
		} else {
			v = read_uint(data, t->size);
		}
		bool sgn = btf_kflag(t);
		if (sgn && t->size < 8 && (v >> (t->size * 8 - 1)))
			v |= ~((1ULL << (t->size * 8)) - 1);
		for (int i = 0; i < btf_vlen(t); i++) {
			uint64_t ev;
			const char *en;
			if (btf_is_enum(t)) {
				const struct btf_enum *e = btf_enum(t) + i;
				ev = sgn ? (uint64_t)(int64_t)e->val : (uint32_t)e->val;
				en = btf__name_by_offset(btf, e->name_off);
			} else {
				const struct btf_enum64 *e = btf_enum64(t) + i;
				ev = btf_enum64_value(e);
				en = btf__name_by_offset(btf, e->name_off);
			}
			if (t->size < 8)
				ev &= (1ULL << (t->size * 8)) - 1, v &= (1ULL << (t->size * 8)) - 1;
			if (ev == v) {
				sb_json_str(s, en);
				return;
			}
		}
		if (sgn)
			sb_json_i64(s, (int64_t)v);
		else
			sb_json_u64(s, v);
		return;
	}
	case BTF_KIND_PTR: {
		char tmp[24];
		snprintf(tmp, sizeof(tmp), "\"0x%llx\"", (unsigned long long)read_uint(data, 8));
		sb_puts(s, tmp);
		return;
	}
	case BTF_KIND_FLOAT: {
		double d = t->size == 4 ? *(const float *)data : t->size == 8 ? *(const double *)data : 0;
		if (d != d || d - d != 0)
			sb_puts(s, "null");
		else
			sb_printf(s, "%.17g", d);
		return;
	}
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array(t);
		if (btf_is_char(btf, a->type)) {
			/*
			 * A C string ends at its first NUL, but bytes after it are data too (`ab\0cd`): they are kept,
			 * the NULs written as \u0000, up to the last non-zero byte, so nothing is hidden and the string
			 * writes back the same bytes. Only the zero padding at the end is left out.
			 */
			size_t n = a->nelems;
			while (n && !((const char *)data)[n - 1])
				n--;
			sb_json_strn(s, data, n);
			return;
		}
		int64_t esz = btf__resolve_size(btf, a->type);
		sb_putc(s, '[');
		for (uint32_t i = 0; esz > 0 && i < a->nelems; i++) {
			if (i)
				sb_putc(s, ',');
			value_json(s, btf, a->type, data + i * esz, 0, 0, depth + 1);
		}
		sb_putc(s, ']');
		return;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: {
		bool first = true;
		sb_putc(s, '{');
		members_json(s, btf, t, data, &first, depth);
		sb_putc(s, '}');
		return;
	}
	case BTF_KIND_DATASEC: {
		/* .data/.bss/.rodata maps: one key per global variable */
		const struct btf_var_secinfo *v = btf_var_secinfos(t);
		sb_putc(s, '{');
		for (int i = 0; i < btf_vlen(t); i++, v++) {
			const struct btf_type *vt = btf__type_by_id(btf, v->type);
			if (i)
				sb_putc(s, ',');
			sb_json_str(s, btf__name_by_offset(btf, vt->name_off));
			sb_putc(s, ':');
			value_json(s, btf, vt->type, data + v->offset, 0, 0, depth + 1);
		}
		sb_putc(s, '}');
		return;
	}
	case BTF_KIND_VAR:
		value_json(s, btf, t->type, data, bit_off, nbits, depth + 1);
		return;
	default: {
		int64_t sz = btf__resolve_size(btf, id);
		sb_hex(s, data, sz > 0 ? sz : 0);
		return;
	}
	}
}

void btf_value_json(struct sbuf *s, const struct btf *btf, uint32_t type_id, const void *data, size_t size)
{
	if (!btf || !type_id || btf__resolve_size(btf, type_id) != (int64_t)size) {
		sb_hex(s, data, size);
		return;
	}
	value_json(s, btf, type_id, data, 0, 0, 0);
}

char *btf_type_str(const struct btf *btf, uint32_t id)
{
	char buf[256];
	const struct btf_type *t = btf__type_by_id(btf, id);
	if (!t)
		return NULL;
	const char *name = btf__name_by_offset(btf, t->name_off);
	switch (btf_kind(t)) {
	case BTF_KIND_STRUCT:
		snprintf(buf, sizeof(buf), "struct %s", name && *name ? name : "(anon)");
		break;
	case BTF_KIND_UNION:
		snprintf(buf, sizeof(buf), "union %s", name && *name ? name : "(anon)");
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		snprintf(buf, sizeof(buf), "enum %s", name && *name ? name : "(anon)");
		break;
	case BTF_KIND_ARRAY: {
		char *inner = btf_type_str(btf, btf_array(t)->type);
		snprintf(buf, sizeof(buf), "%s[%u]", inner ? inner : "?", btf_array(t)->nelems);
		free(inner);
		break;
	}
	case BTF_KIND_PTR: {
		char *inner = btf_type_str(btf, t->type);
		snprintf(buf, sizeof(buf), "%s *", inner ? inner : "void");
		free(inner);
		break;
	}
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		return btf_type_str(btf, t->type);
	case BTF_KIND_DATASEC:
		snprintf(buf, sizeof(buf), "datasec %s", name);
		break;
	default:
		snprintf(buf, sizeof(buf), "%s", name && *name ? name : "void");
	}
	return strdup(buf);
}

/* Finds "struct x", "union x", "enum x" or a plain type name. */
uint32_t btf_find_type(const struct btf *btf, const char *name)
{
	int kind = -1;
	if (!strncmp(name, "struct ", 7))
		kind = BTF_KIND_STRUCT, name += 7;
	else if (!strncmp(name, "union ", 6))
		kind = BTF_KIND_UNION, name += 6;
	else if (!strncmp(name, "enum ", 5))
		kind = BTF_KIND_ENUM, name += 5;
	if (kind >= 0) {
		int id = btf__find_by_name_kind(btf, name, kind);
		return id > 0 ? id : 0;
	}
	int id = btf__find_by_name(btf, name);
	return id > 0 ? id : 0;
}

/* The BTF that describes a map: the loading handle's object BTF, else the map's kernel BTF. */
struct btf *btf_for_map(uint32_t map_id, uint32_t btf_id, bool *owned)
{
	*owned = false;
	struct handle *h = handle_by_map_id(map_id);
	if (h && h->btf)
		return h->btf;
	if (btf_id) {
		struct btf *b = btf__load_from_kernel_by_id(btf_id);
		if (b) {
			*owned = true;
			return b;
		}
	}
	return NULL;
}
