// SPDX-License-Identifier: Apache-2.0
/*
 * Reading maps, shared by map_dump and map_watch: batch lookups (one syscall per few hundred
 * thousand entries), get_next_key + lookup for map types without them, opaque cursors, and
 * rows written as BTF-decoded JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "agent.h"

#define BATCH_BYTES (8u << 20)

static bool type_percpu(uint32_t t)
{
	return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

int map_open(uint32_t map_id, struct map_rows *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->fd = bpf_map_get_fd_by_id(map_id);
	if (r->fd < 0) {
		int e = errno;
		snprintf(err, errlen, "no map with id %u: %s", map_id, strerror(e));
		return -e;
	}
	uint32_t len = sizeof(r->info);
	if (bpf_obj_get_info_by_fd(r->fd, &r->info, &len)) {
		int e = errno;
		snprintf(err, errlen, "map %u: %s", map_id, strerror(e));
		close(r->fd);
		return -e;
	}
	uint32_t t = r->info.type;
	if (t == BPF_MAP_TYPE_RINGBUF || t == BPF_MAP_TYPE_USER_RINGBUF || t == BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
		snprintf(err, errlen, "map %u is a %s: its records are read with %s", map_id, libbpf_bpf_map_type_str(t),
			 t == BPF_MAP_TYPE_PERF_EVENT_ARRAY ? M_PERFBUF_SUBSCRIBE : M_RINGBUF_SUBSCRIBE);
		close(r->fd);
		return -EOPNOTSUPP;
	}
	if (t == BPF_MAP_TYPE_QUEUE || t == BPF_MAP_TYPE_STACK || t == BPF_MAP_TYPE_BLOOM_FILTER) {
		/* no keys to walk: reading a queue or stack pops it (taking entries from the program), a bloom filter
		 * only answers "maybe there" for a value you give */
		snprintf(err, errlen,
			 "map %u is a %s: it has no keys to list, and reading its entries would %s, so it is not dumped",
			 map_id, libbpf_bpf_map_type_str(t),
			 t == BPF_MAP_TYPE_BLOOM_FILTER ? "need the values you look for" : "pop them from the program");
		close(r->fd);
		return -EOPNOTSUPP;
	}
	r->percpu = type_percpu(t);
	r->ksz = r->info.key_size;
	r->vsz = r->percpu ? ((r->info.value_size + 7) / 8 * 8) * ncpus_possible() : r->info.value_size;
	r->batch_ok = true;
	return 0;
}

void map_rows_free(struct map_rows *r)
{
	free(r->keys);
	free(r->vals);
	if (r->fd > 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/* Room for more rows, grown by doubling but never past the read budget: -E2BIG past it, -ENOMEM when
 * the memory is not there (never abort: a map on the box must not take the agent down). */
static int rows_reserve(struct map_rows *r, size_t more)
{
	if (r->n + more <= r->cap)
		return 0;
	size_t max_rows = map_budget_rows(r);
	if (r->n + more > max_rows)
		return -E2BIG;
	size_t nc = r->cap ? r->cap : 16;
	while (nc < r->n + more)
		nc *= 2;
	if (nc > max_rows)
		nc = max_rows;
	char *k = realloc(r->keys, nc * (r->ksz ? r->ksz : 1));
	if (!k)
		return -ENOMEM;
	r->keys = k;
	char *v = realloc(r->vals, nc * (r->vsz ? r->vsz : 1));
	if (!v)
		return -ENOMEM;
	r->vals = v;
	r->cap = nc;
	return 0;
}

size_t map_budget_rows(const struct map_rows *r)
{
	size_t row = r->ksz + r->vsz;
	return MAP_READ_BUDGET / (row ? row : 1);
}

static char *hexdup(char tag, const void *p, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	char *s = malloc(2 * n + 3);
	s[0] = tag;
	s[1] = ':';
	for (size_t i = 0; i < n; i++) {
		s[2 + 2 * i] = hexd[((const unsigned char *)p)[i] >> 4];
		s[3 + 2 * i] = hexd[((const unsigned char *)p)[i] & 15];
	}
	s[2 + 2 * n] = 0;
	return s;
}

static int unhex(const char *h, void *out, size_t n)
{
	if (strlen(h) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		((unsigned char *)out)[i] = v;
	}
	return 0;
}

int map_read(struct map_rows *r, const char *cursor, size_t limit, char **next, bool *done)
{
	size_t tok_sz = r->ksz > 8 ? r->ksz : 8;
	char in_tok[tok_sz], out_tok[tok_sz], last_key[r->ksz ? r->ksz : 1];
	bool have_in = false, have_last = false;
	*next = NULL;
	*done = false;
	if (cursor) {
		if (!strncmp(cursor, "b:", 2) && unhex(cursor + 2, in_tok, tok_sz) == 0)
			have_in = true;
		else if (!strncmp(cursor, "k:", 2) && unhex(cursor + 2, last_key, r->ksz) == 0)
			have_last = true, r->batch_ok = false;
		else
			return -EINVAL;
	}
	size_t got = 0;
	int e;
	/* batch lookups first; buffers are sized by what the kernel returns, a batch at a time (never by
	 * max_entries: a no-prealloc hash can be declared far larger than memory) */
	while (r->batch_ok && got < limit) {
		size_t row = r->ksz + r->vsz ? r->ksz + r->vsz : 1;
		size_t per = BATCH_BYTES / row ? BATCH_BYTES / row : 1;
		size_t room = map_budget_rows(r) - r->n;
		size_t count = limit - got < per ? limit - got : per;
		if (count < 64 && 64 * row <= BATCH_BYTES)
			count = 64; /* a hash bucket can hold more than one entry */
		if (count > room)
			count = room;
		if (!count) {
			if (!got)
				return -E2BIG;
			goto budget; /* the read budget is full: this page ends here */
		}
	retry:
		if ((e = rows_reserve(r, count))) {
			if (e == -E2BIG && got)
				goto budget;
			return e;
		}
		uint32_t c = count;
		memset(out_tok, 0, tok_sz);
		int be = bpf_map_lookup_batch(r->fd, have_in ? in_tok : NULL, out_tok, r->keys + r->n * r->ksz,
					      r->vals + r->n * r->vsz, &c, NULL);
		int err = be ? errno : 0;
		if (be && err == ENOSPC && c == 0) {
			count *= 2; /* the next bucket is larger than count */
			if (count > room) {
				if (got)
					goto budget;
				return -E2BIG;
			}
			goto retry;
		}
		if (be && err != ENOENT) {
			if (!cursor && got == 0 && (err == EINVAL || err == EOPNOTSUPP || err == 524)) {
				r->batch_ok = false; /* this map type has no batch ops */
				break;
			}
			return -err;
		}
		r->n += c;
		got += c;
		if (be) { /* ENOENT: the whole map has been read */
			*done = true;
			return 0;
		}
		memcpy(in_tok, out_tok, tok_sz);
		have_in = true;
	}
budget:
	if (r->batch_ok) {
		*next = hexdup('b', in_tok, tok_sz);
		return 0;
	}
	/* fallback: get_next_key + lookup */
	while (got < limit) {
		if ((e = rows_reserve(r, 1))) {
			if (e == -E2BIG && got)
				break; /* the read budget is full: this page ends here */
			return e;
		}
		char *k = r->keys + r->n * r->ksz;
		if (bpf_map_get_next_key(r->fd, have_last ? last_key : NULL, k)) {
			if (errno == ENOENT) {
				*done = true;
				return 0;
			}
			return -errno;
		}
		memcpy(last_key, k, r->ksz);
		have_last = true;
		if (bpf_map_lookup_elem(r->fd, k, r->vals + r->n * r->vsz)) {
			if (errno == ENOENT)
				continue; /* deleted meanwhile */
			return -errno;
		}
		r->n++;
		got++;
	}
	*next = hexdup('k', last_key, r->ksz);
	return 0;
}

void rows_key_json(struct sbuf *s, struct map_rows *r, const struct btf *btf, const void *key)
{
	btf_value_json(s, btf, btf ? r->info.btf_key_type_id : 0, key, r->ksz);
}

void rows_value_json(struct sbuf *s, struct map_rows *r, const struct btf *btf, const char *v)
{
	uint32_t vt = btf ? r->info.btf_value_type_id : 0;
	if (!r->percpu) {
		btf_value_json(s, btf, vt, v, r->info.value_size);
		return;
	}
	/* per-CPU: one value per possible CPU */
	size_t step = (r->info.value_size + 7) / 8 * 8;
	sb_putc(s, '[');
	for (int c = 0; c < ncpus_possible(); c++) {
		if (c)
			sb_putc(s, ',');
		btf_value_json(s, btf, vt, v + c * step, r->info.value_size);
	}
	sb_putc(s, ']');
}

void rows_entry_json(struct sbuf *s, struct map_rows *r, const struct btf *btf, size_t i, bool raw)
{
	const char *k = r->keys + i * r->ksz, *v = r->vals + i * r->vsz;
	sb_puts(s, "{\"key\":");
	rows_key_json(s, r, btf, k);
	sb_puts(s, ",\"value\":");
	rows_value_json(s, r, btf, v);
	if (raw) {
		sb_puts(s, ",\"key_hex\":");
		sb_hex(s, k, r->ksz);
		sb_puts(s, ",\"value_hex\":");
		sb_hex(s, v, r->vsz);
	}
	sb_putc(s, '}');
}
