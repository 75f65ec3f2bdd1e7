// SPDX-License-Identifier: Apache-2.0
/*
 * JSON -> BTF-typed bytes for map_update/map_delete: the inverse of btf_json.c. Structs from
 * objects (missing members are zero, anonymous members looked through), arrays from arrays,
 * char arrays from strings, enums from names or numbers, integers from numbers or decimal/0x
 * strings; without a type, the exact bytes as hex.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"

static int int_from_json(json_t *j, bool sgn, uint64_t *out, char *err, size_t errlen)
{
	if (json_is_integer(j)) {
		*out = (uint64_t)json_integer_value(j);
		return 0;
	}
	if (json_is_boolean(j)) {
		*out = json_is_true(j);
		return 0;
	}
	if (json_is_real(j)) {
		double d = json_real_value(j);
		if (d != (double)(int64_t)d)
			goto bad;
		*out = (uint64_t)(int64_t)d;
		return 0;
	}
	if (json_is_string(j)) {
		/* decimal (big values arrive as strings) or 0x hex */
		const char *p = json_string_value(j);
		char *end;
		errno = 0;
		*out = sgn && *p == '-' ? (uint64_t)strtoll(p, &end, 0) : strtoull(p, &end, 0);
		if (*p && !*end && !errno)
			return 0;
	}
bad:
	snprintf(err, errlen, "expected an integer");
	return -EINVAL;
}

static void put_bits(void *base, uint32_t bit_off, uint32_t nbits, uint64_t v)
{
	unsigned char *b = base;
	for (uint32_t i = 0; i < nbits; i++) {
		uint32_t bit = bit_off + i;
		if ((v >> i) & 1)
			b[bit / 8] |= 1u << (bit % 8);
		else
			b[bit / 8] &= ~(1u << (bit % 8));
	}
}

static int from_json(const struct btf *btf, uint32_t id, json_t *j, char *out, uint32_t bit_off, uint32_t nbits,
		     char *err, size_t errlen, int depth)
{
	id = btf_skip_mods(btf, id);
	const struct btf_type *t = btf__type_by_id(btf, id);
	if (!t || depth > 32) {
		snprintf(err, errlen, "unsupported type");
		return -EINVAL;
	}
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64: {
		uint64_t v = 0;
		bool found = false;
		if (btf_is_any_enum(t) && json_is_string(j)) {
			for (int i = 0; i < btf_vlen(t) && !found; i++) {
				const char *en = btf_is_enum(t) ? btf__name_by_offset(btf, btf_enum(t)[i].name_off)
								: btf__name_by_offset(btf, btf_enum64(t)[i].name_off);
				if (!strcmp(en, json_string_value(j))) {
					v = btf_is_enum(t) ? (uint64_t)(int64_t)btf_enum(t)[i].val : btf_enum64_value(btf_enum64(t) + i);
					found = true;
				}
			}
		}
		if (!found && int_from_json(j, btf_is_int(t) ? (btf_int_encoding(t) & BTF_INT_SIGNED) : true, &v, err, errlen))
			return -EINVAL;
		uint32_t bits = nbits ? nbits : btf_is_int(t) ? btf_int_bits(t) : t->size * 8;
		if (btf_is_int(t))
			bit_off += btf_int_offset(t);
		if (bits > 64) {
			memset(out + bit_off / 8, 0, bits / 8);
			memcpy(out + bit_off / 8, &v, 8);
		} else if (!nbits && bit_off % 8 == 0 && bits % 8 == 0) {
			memcpy(out + bit_off / 8, &v, bits / 8);
		} else {
			put_bits(out, bit_off, bits, v);
		}
		return 0;
	}
	case BTF_KIND_PTR: {
		uint64_t v;
		if (int_from_json(j, false, &v, err, errlen))
			return -EINVAL;
		memcpy(out, &v, 8);
		return 0;
	}
	case BTF_KIND_FLOAT:
		if (!json_is_number(j)) {
			snprintf(err, errlen, "expected a number");
			return -EINVAL;
		}
		if (t->size == 4) {
			float f = json_number_value(j);
			memcpy(out, &f, 4);
		} else if (t->size == 8) {
			double d = json_number_value(j);
			memcpy(out, &d, 8);
		}
		return 0;
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array(t);
		int64_t esz = btf__resolve_size(btf, a->type);
		if (btf_is_char(btf, a->type) && json_is_string(j)) {
			size_t n = json_string_length(j);
			if (n > a->nelems) {
				snprintf(err, errlen, "string of %zu bytes does not fit char[%u]", n, a->nelems);
				return -EINVAL;
			}
			memset(out, 0, a->nelems);
			memcpy(out, json_string_value(j), n);
			return 0;
		}
		if (!json_is_array(j) || json_array_size(j) > a->nelems) {
			snprintf(err, errlen, "expected an array of at most %u elements", a->nelems);
			return -EINVAL;
		}
		for (size_t i = 0; i < json_array_size(j); i++) {
			int e = from_json(btf, a->type, json_array_get(j, i), out + i * esz, 0, 0, err, errlen, depth + 1);
			if (e) {
				size_t l = strlen(err);
				snprintf(err + l, errlen - l, " (at [%zu])", i);
				return e;
			}
		}
		return 0;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: {
		if (!json_is_object(j)) {
			snprintf(err, errlen, "expected an object");
			return -EINVAL;
		}
		const char *key;
		json_t *v;
		json_object_foreach(j, key, v)
		{
			/* find the member, looking through anonymous members */
			const struct btf_type *ct = t;
			const char *base = out;
			bool found = false;
			for (int guard = 0; guard < 8 && !found; guard++) {
				const struct btf_member *m = btf_members(ct);
				const struct btf_type *anon = NULL;
				uint32_t anon_off = 0;
				for (int i = 0; i < btf_vlen(ct); i++, m++) {
					const char *mn = btf__name_by_offset(btf, m->name_off);
					uint32_t off = btf_member_bit_offset(ct, i), bsz = btf_member_bitfield_size(ct, i);
					if (mn && !strcmp(mn, key)) {
						int e = bsz ? from_json(btf, m->type, v, (char *)base, off, bsz, err, errlen, depth + 1)
							    : from_json(btf, m->type, v, (char *)base + off / 8, 0, 0, err, errlen, depth + 1);
						if (e) {
							size_t l = strlen(err);
							snprintf(err + l, errlen - l, " (at .%s)", key);
							return e;
						}
						found = true;
						break;
					}
					const struct btf_type *mt = btf__type_by_id(btf, btf_skip_mods(btf, m->type));
					if ((!mn || !*mn) && mt && btf_is_composite(mt) && !anon) {
						anon = mt;
						anon_off = off / 8;
					}
				}
				if (found || !anon)
					break;
				ct = anon;
				base += anon_off;
			}
			if (!found) {
				snprintf(err, errlen, "no member '%s'", key);
				return -EINVAL;
			}
		}
		return 0;
	}
	default:
		snprintf(err, errlen, "values of this BTF kind are given as hex");
		return -EINVAL;
	}
}

static int hex_decode(const char *h, void *out, size_t size)
{
	if (!strncmp(h, "0x", 2))
		h += 2;
	if (strlen(h) != size * 2)
		return -EINVAL;
	for (size_t i = 0; i < size; i++) {
		unsigned v;
		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		((unsigned char *)out)[i] = v;
	}
	return 0;
}

int btf_value_from_json(const struct btf *btf, uint32_t type_id, json_t *j, void *out, size_t size, char *err,
			size_t errlen)
{
	memset(out, 0, size);
	err[0] = 0;
	bool typed = btf && type_id && btf__resolve_size(btf, type_id) == (int64_t)size;
	if (!typed) {
		if (json_is_string(j) && hex_decode(json_string_value(j), out, size) == 0)
			return 0;
		if (json_is_integer(j) && size <= 8) {
			uint64_t v = json_integer_value(j);
			memcpy(out, &v, size);
			return 0;
		}
		snprintf(err, errlen, "expected %zu bytes as a hex string (no BTF type for this value)", size);
		return -EINVAL;
	}
	/* typed: a hex string of the whole value works for composite types too */
	const struct btf_type *t = btf__type_by_id(btf, btf_skip_mods(btf, type_id));
	bool scalar = t && (btf_is_int(t) || btf_is_any_enum(t) || btf_is_ptr(t) || btf_is_float(t));
	if (json_is_string(j) && !scalar && !(btf_is_array(t) && btf_is_char(btf, btf_array(t)->type))) {
		if (hex_decode(json_string_value(j), out, size) == 0)
			return 0;
	}
	return from_json(btf, type_id, j, out, 0, 0, err, errlen, 0);
}
