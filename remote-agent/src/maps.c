// SPDX-License-Identifier: Apache-2.0
/*
 * map_dump / map_update / map_delete / map_watch. Reads use batch lookups (one syscall per
 * few thousand entries) and fall back to get_next_key + lookup for map types without them.
 * Keys and values are decoded with the map's BTF (see btf_json.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/timerfd.h>
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

static void rows_reserve(struct map_rows *r, size_t more)
{
	if (r->n + more <= r->cap)
		return;
	size_t nc = r->cap ? r->cap : 1024;
	while (nc < r->n + more)
		nc *= 2;
	r->keys = realloc(r->keys, nc * (r->ksz ? r->ksz : 1));
	r->vals = realloc(r->vals, nc * (r->vsz ? r->vsz : 1));
	if (!r->keys || !r->vals)
		abort();
	r->cap = nc;
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
	/* size the buffers once for what this call can return (no regrowth, fewer page faults) */
	rows_reserve(r, (limit < r->info.max_entries ? limit : r->info.max_entries) + 64);
	/* batch lookups first */
	while (r->batch_ok && got < limit) {
		size_t per = BATCH_BYTES / (r->ksz + r->vsz + 1);
		uint32_t count = limit - got < per ? limit - got : per;
		if (count < 64)
			count = 64; /* a hash bucket can hold more than one entry */
	retry:
		rows_reserve(r, count);
		uint32_t c = count;
		memset(out_tok, 0, tok_sz);
		int e = bpf_map_lookup_batch(r->fd, have_in ? in_tok : NULL, out_tok, r->keys + r->n * r->ksz,
					     r->vals + r->n * r->vsz, &c, NULL);
		int err = e ? errno : 0;
		if (e && err == ENOSPC && c == 0) {
			count *= 2; /* the next bucket is larger than count */
			goto retry;
		}
		if (e && err != ENOENT) {
			if (!cursor && got == 0 && (err == EINVAL || err == EOPNOTSUPP || err == 524)) {
				r->batch_ok = false; /* this map type has no batch ops */
				break;
			}
			return -err;
		}
		r->n += c;
		got += c;
		if (e) { /* ENOENT: the whole map has been read */
			*done = true;
			return 0;
		}
		memcpy(in_tok, out_tok, tok_sz);
		have_in = true;
	}
	if (r->batch_ok) {
		*next = hexdup('b', in_tok, tok_sz);
		return 0;
	}
	/* fallback: get_next_key + lookup */
	while (got < limit) {
		rows_reserve(r, 1);
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

static void value_json(struct sbuf *s, struct map_rows *r, const struct btf *btf, const char *v)
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
	value_json(s, r, btf, v);
	if (raw) {
		sb_puts(s, ",\"key_hex\":");
		sb_hex(s, k, r->ksz);
		sb_puts(s, ",\"value_hex\":");
		sb_hex(s, v, r->vsz);
	}
	sb_putc(s, '}');
}

static void map_meta_json(struct sbuf *s, struct map_rows *r, const struct btf *btf)
{
	const char *t = libbpf_bpf_map_type_str(r->info.type);
	sb_printf(s, "\"map_id\":%u,\"name\":", r->info.id);
	sb_json_str(s, r->info.name);
	sb_printf(s, ",\"type\":\"%s\",\"key_size\":%u,\"value_size\":%u,\"max_entries\":%u,\"percpu\":%s", t ? t : "unknown",
		  r->info.key_size, r->info.value_size, r->info.max_entries, r->percpu ? "true" : "false");
	char *kt = btf && r->info.btf_key_type_id ? btf_type_str(btf, r->info.btf_key_type_id) : NULL;
	char *vt = btf && r->info.btf_value_type_id ? btf_type_str(btf, r->info.btf_value_type_id) : NULL;
	sb_puts(s, ",\"key_type\":");
	kt ? sb_json_str(s, kt) : sb_puts(s, "null");
	sb_puts(s, ",\"value_type\":");
	vt ? sb_json_str(s, vt) : sb_puts(s, "null");
	free(kt);
	free(vt);
}

static void map_err(json_t *id, int e, const char *msg, uint32_t map_id)
{
	reply_error(id, e == -ENOENT ? E_NOT_FOUND : e == -EOPNOTSUPP ? E_NOT_SUPPORTED : e == -EPERM ? E_PERMISSION_DENIED : E_MAP_ERROR,
		    json_pack("{s:i}", "map_id", (int)map_id),
		    e == -ENOENT ? "map ids come from load replies or bpftool map list" : NULL, "%s", msg);
}

void do_map_dump(json_t *id, json_t *params)
{
	int64_t map_id, limit = 10000;
	const char *cursor = NULL, *layout = "entries";
	bool raw = false;
	if (!p_int(id, params, "map_id", true, 1, UINT32_MAX, &map_id) || !p_int(id, params, "limit", false, 1, 100000000, &limit) ||
	    !p_str(id, params, "cursor", false, &cursor) || !p_bool(id, params, "raw", &raw) ||
	    !p_str(id, params, "layout", false, &layout))
		return;
	bool columns = !strcmp(layout, "columns");
	if (!columns && strcmp(layout, "entries")) {
		reply_error(id, E_INVALID_PARAMS, NULL, NULL, "layout must be \"entries\" or \"columns\"");
		return;
	}
	struct map_rows r;
	char err[256];
	int e = map_open(map_id, &r, err, sizeof(err));
	if (e) {
		map_err(id, e, err, map_id);
		return;
	}
	bool owned;
	struct btf *btf = btf_for_map(map_id, r.info.btf_id, &owned);
	char *next = NULL;
	bool done;
	e = map_read(&r, cursor, limit, &next, &done);
	if (e) {
		if (e == -EINVAL && cursor)
			reply_error(id, E_INVALID_PARAMS, NULL, "pass back the cursor of the previous map_dump reply unchanged",
				    "invalid cursor");
		else
			map_err(id, e, strerror(-e), map_id);
		goto cleanup;
	}
	/* reply: hand-built JSON straight into the output line, this is the hot path */
	struct sbuf s;
	sb_init(&s, 256 + r.n * (r.ksz + r.vsz) * (columns ? 2 : 4));
	sb_reply_begin(&s, id);
	sb_putc(&s, '{');
	map_meta_json(&s, &r, btf);
	sb_printf(&s, ",\"count\":%zu,\"done\":%s,\"cursor\":", r.n, done ? "true" : "false");
	next && !done ? sb_json_str(&s, next) : sb_puts(&s, "null");
	if (columns) {
		/* columns: keys[i] goes with values[i]; about half the bytes of entries */
		sb_puts(&s, ",\"keys\":[");
		for (size_t i = 0; i < r.n; i++) {
			if (i)
				sb_putc(&s, ',');
			rows_key_json(&s, &r, btf, r.keys + i * r.ksz);
		}
		sb_puts(&s, "],\"values\":[");
		for (size_t i = 0; i < r.n; i++) {
			if (i)
				sb_putc(&s, ',');
			value_json(&s, &r, btf, r.vals + i * r.vsz);
		}
		sb_putc(&s, ']');
		if (raw) {
			sb_puts(&s, ",\"keys_hex\":[");
			for (size_t i = 0; i < r.n; i++) {
				if (i)
					sb_putc(&s, ',');
				sb_hex(&s, r.keys + i * r.ksz, r.ksz);
			}
			sb_puts(&s, "],\"values_hex\":[");
			for (size_t i = 0; i < r.n; i++) {
				if (i)
					sb_putc(&s, ',');
				sb_hex(&s, r.vals + i * r.vsz, r.vsz);
			}
			sb_putc(&s, ']');
		}
	} else {
		sb_puts(&s, ",\"entries\":[");
		for (size_t i = 0; i < r.n; i++) {
			if (i)
				sb_putc(&s, ',');
			rows_entry_json(&s, &r, btf, i, raw);
		}
		sb_putc(&s, ']');
	}
	sb_puts(&s, "}}");
	out_line(s.buf, s.len, false);
	sb_free(&s);
cleanup:
	free(next);
	if (owned)
		btf__free(btf);
	map_rows_free(&r);
}

static int parse_flags(json_t *j, uint64_t *flags)
{
	if (!j || json_is_null(j)) {
		*flags = BPF_ANY;
		return 0;
	}
	if (json_is_integer(j)) {
		*flags = json_integer_value(j);
		return 0;
	}
	const char *f = json_string_value(j);
	if (!f)
		return -EINVAL;
	if (!strcmp(f, "any"))
		*flags = BPF_ANY;
	else if (!strcmp(f, "noexist"))
		*flags = BPF_NOEXIST;
	else if (!strcmp(f, "exist"))
		*flags = BPF_EXIST;
	else
		return -EINVAL;
	return 0;
}

static void map_write(json_t *id, json_t *params, bool del)
{
	int64_t map_id;
	if (!p_int(id, params, "map_id", true, 1, UINT32_MAX, &map_id))
		return;
	json_t *jk = json_object_get(params, "key"), *jv = json_object_get(params, "value");
	/* raw bytes: key_hex / value_hex are hex strings of the exact sizes */
	bool khex = false, vhex = false;
	if (!jk && json_is_string(json_object_get(params, "key_hex")))
		jk = json_object_get(params, "key_hex"), khex = true;
	if (!jv && json_is_string(json_object_get(params, "value_hex")))
		jv = json_object_get(params, "value_hex"), vhex = true;
	if (!jk || (!del && !jv)) {
		reply_error(id, E_INVALID_PARAMS, NULL, "give typed JSON as map_dump shows it, or hex strings",
			    del ? "missing parameter 'key'" : "parameters 'key' and 'value' are required");
		return;
	}
	uint64_t flags;
	if (parse_flags(json_object_get(params, "flags"), &flags)) {
		reply_error(id, E_INVALID_PARAMS, NULL, NULL, "flags must be \"any\", \"noexist\", \"exist\" or an integer");
		return;
	}
	struct map_rows r;
	char err[256];
	int e = map_open(map_id, &r, err, sizeof(err));
	if (e) {
		map_err(id, e, err, map_id);
		return;
	}
	bool owned;
	struct btf *btf = btf_for_map(map_id, r.info.btf_id, &owned);
	char *key = calloc(1, r.ksz + 1), *val = calloc(1, r.vsz + 1);
	if (btf_value_from_json(btf, btf && !khex ? r.info.btf_key_type_id : 0, jk, key, r.ksz, err, sizeof(err))) {
		reply_error(id, E_INVALID_PARAMS, NULL, NULL, "key: %s", err);
		goto cleanup;
	}
	if (!del) {
		uint32_t vt = btf ? r.info.btf_value_type_id : 0;
		if (vhex) {
			e = btf_value_from_json(NULL, 0, jv, val, r.percpu ? r.vsz : r.info.value_size, err, sizeof(err));
		} else if (!r.percpu) {
			e = btf_value_from_json(btf, vt, jv, val, r.info.value_size, err, sizeof(err));
		} else {
			/* per-CPU: an array of one value per CPU, or one value for every CPU */
			size_t step = (r.info.value_size + 7) / 8 * 8;
			int n = ncpus_possible();
			bool each = json_is_array(jv) && json_array_size(jv) == (size_t)n;
			for (int c = 0; c < n && !e; c++)
				e = btf_value_from_json(btf, vt, each ? json_array_get(jv, c) : jv, val + c * step,
							r.info.value_size, err, sizeof(err));
		}
		if (e) {
			reply_error(id, E_INVALID_PARAMS, NULL, NULL, "value: %s", err);
			goto cleanup;
		}
	}
	e = del ? bpf_map_delete_elem(r.fd, key) : bpf_map_update_elem(r.fd, key, val, flags);
	if (e) {
		int en = errno;
		reply_error(id, en == ENOENT ? E_NOT_FOUND : E_MAP_ERROR, json_pack("{s:i,s:i}", "map_id", (int)map_id, "errno", en),
			    en == E2BIG ? "the map is full" : en == EEXIST ? "the key exists (flags: noexist)" : NULL,
			    "%s failed: %s", del ? "delete" : "update", strerror(en));
		goto cleanup;
	}
	reply_result(id, json_pack("{s:i,s:b}", "map_id", (int)map_id, del ? "deleted" : "updated", 1));
cleanup:
	free(key);
	free(val);
	if (owned)
		btf__free(btf);
	map_rows_free(&r);
}

/* Many entries at once: {map_id, entries: [{key, value}], flags}, with batch updates. */
static void map_update_many(json_t *id, json_t *params, json_t *entries)
{
	int64_t map_id;
	if (!p_int(id, params, "map_id", true, 1, UINT32_MAX, &map_id))
		return;
	uint64_t flags;
	if (parse_flags(json_object_get(params, "flags"), &flags)) {
		reply_error(id, E_INVALID_PARAMS, NULL, NULL, "flags must be \"any\", \"noexist\", \"exist\" or an integer");
		return;
	}
	struct map_rows r;
	char err[256];
	int e = map_open(map_id, &r, err, sizeof(err));
	if (e) {
		map_err(id, e, err, map_id);
		return;
	}
	bool owned;
	struct btf *btf = btf_for_map(map_id, r.info.btf_id, &owned);
	size_t n = json_array_size(entries);
	char *keys = calloc(n ? n : 1, r.ksz), *vals = calloc(n ? n : 1, r.vsz);
	size_t step = (r.info.value_size + 7) / 8 * 8;
	for (size_t i = 0; i < n; i++) {
		json_t *en = json_array_get(entries, i);
		json_t *jk = json_object_get(en, "key"), *jv = json_object_get(en, "value");
		if (!jk || !jv) {
			reply_error(id, E_INVALID_PARAMS, NULL, NULL, "entries[%zu] needs \"key\" and \"value\"", i);
			goto cleanup;
		}
		e = btf_value_from_json(btf, btf ? r.info.btf_key_type_id : 0, jk, keys + i * r.ksz, r.ksz, err, sizeof(err));
		for (int c = 0; !e && c < (r.percpu ? ncpus_possible() : 1); c++) {
			bool each = r.percpu && json_is_array(jv) && json_array_size(jv) == (size_t)ncpus_possible();
			e = btf_value_from_json(btf, btf ? r.info.btf_value_type_id : 0, each ? json_array_get(jv, c) : jv,
						vals + i * r.vsz + c * step, r.info.value_size, err, sizeof(err));
		}
		if (e) {
			reply_error(id, E_INVALID_PARAMS, NULL, NULL, "entries[%zu]: %s", i, err);
			goto cleanup;
		}
	}
	/* batch update in chunks; element by element where the map type has no batch ops */
	size_t done = 0;
	LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = flags);
	while (done < n) {
		uint32_t c = n - done > 65536 ? 65536 : n - done;
		if (bpf_map_update_batch(r.fd, keys + done * r.ksz, vals + done * r.vsz, &c, &bo) == 0) {
			done += c;
			continue;
		}
		if (errno != EINVAL && errno != EOPNOTSUPP && errno != 524) {
			done += c;
			e = -errno;
			break;
		}
		done += c;
		for (; done < n; done++)
			if (bpf_map_update_elem(r.fd, keys + done * r.ksz, vals + done * r.vsz, flags)) {
				e = -errno;
				break;
			}
		break;
	}
	if (e)
		reply_error(id, E_MAP_ERROR, json_pack("{s:i,s:I}", "map_id", (int)map_id, "updated", (json_int_t)done),
			    e == -E2BIG ? "the map is full: raise its size with load's map_sizes" : NULL,
			    "update failed after %zu of %zu entries: %s", done, n, strerror(-e));
	else
		reply_result(id, json_pack("{s:i,s:b,s:I}", "map_id", (int)map_id, "updated", 1, "count", (json_int_t)n));
cleanup:
	free(keys);
	free(vals);
	if (owned)
		btf__free(btf);
	map_rows_free(&r);
}

void do_map_update(json_t *id, json_t *params)
{
	json_t *entries = json_object_get(params, "entries");
	if (entries && json_is_array(entries))
		map_update_many(id, params, entries);
	else if (entries)
		reply_error(id, E_INVALID_PARAMS, NULL, NULL, "\"entries\" must be an array of {key, value}");
	else
		map_write(id, params, false);
}
void do_map_delete(json_t *id, json_t *params) { map_write(id, params, true); }

/* ---- map_watch ---- */
/* Small maps are sent whole on every change; larger ones as changes (entries + removed keys). */
#define WATCH_SMALL 256

struct watch {
	struct sub sub;
	struct watcher w;
	uint32_t map_id;
	struct map_rows prev;
	bool have_prev;
	uint64_t seq;
	uint64_t dropped;
};

/* open addressing over the previous snapshot's keys */
static uint64_t hash_bytes(const void *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const unsigned char *)p)[i]) * 1099511628211ULL;
	return h;
}

static void watch_tick(struct watcher *w, uint32_t events)
{
	struct watch *wa = w->data;
	uint64_t ticks;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0)
		return;
	struct map_rows cur;
	char err[256];
	if (map_open(wa->map_id, &cur, err, sizeof(err)))
		return; /* the map is gone; the watch stays until unsubscribed */
	char *next = NULL;
	bool done = false;
	int e = map_read(&cur, NULL, 1u << 30, &next, &done);
	free(next);
	if (e) {
		map_rows_free(&cur);
		return;
	}
	bool owned;
	struct btf *btf = btf_for_map(wa->map_id, cur.info.btf_id, &owned);
	/* index the previous snapshot */
	size_t hn = 1;
	while (hn < wa->prev.n * 2 + 2)
		hn *= 2;
	int64_t *tab = malloc(hn * sizeof(*tab));
	memset(tab, 0xff, hn * sizeof(*tab));
	for (size_t i = 0; wa->have_prev && i < wa->prev.n; i++) {
		size_t hpos = hash_bytes(wa->prev.keys + i * cur.ksz, cur.ksz) & (hn - 1);
		while (tab[hpos] >= 0)
			hpos = (hpos + 1) & (hn - 1);
		tab[hpos] = i;
	}
	char *seen = calloc(wa->prev.n + 1, 1);
	struct sbuf s;
	sb_init(&s, 4096);
	size_t changed = 0;
	bool full = !wa->have_prev || cur.n <= WATCH_SMALL;
	sb_printf(&s, "{\"event\":\"%s\",\"subscription\":%d,\"map_id\":%u,\"seq\":%llu,\"count\":%zu,\"full\":%s,\"entries\":[",
		  EV_MAP_SNAPSHOT, wa->sub.id, wa->map_id, (unsigned long long)++wa->seq, cur.n, full ? "true" : "false");
	size_t nout = 0;
	for (size_t i = 0; i < cur.n; i++) {
		const char *k = cur.keys + i * cur.ksz, *v = cur.vals + i * cur.vsz;
		bool same = false;
		if (wa->have_prev) {
			size_t hpos = hash_bytes(k, cur.ksz) & (hn - 1);
			while (tab[hpos] >= 0) {
				size_t j = tab[hpos];
				if (!memcmp(wa->prev.keys + j * cur.ksz, k, cur.ksz)) {
					seen[j] = 1;
					same = !memcmp(wa->prev.vals + j * cur.vsz, v, cur.vsz);
					break;
				}
				hpos = (hpos + 1) & (hn - 1);
			}
		}
		if (!same)
			changed++;
		if (full || !same) {
			if (nout++)
				sb_putc(&s, ',');
			rows_entry_json(&s, &cur, btf, i, false);
		}
	}
	sb_puts(&s, "],\"removed\":[");
	size_t nrem = 0;
	for (size_t j = 0; wa->have_prev && j < wa->prev.n; j++) {
		if (seen[j])
			continue;
		changed++;
		if (nrem++)
			sb_putc(&s, ',');
		rows_key_json(&s, &cur, btf, wa->prev.keys + j * cur.ksz);
	}
	sb_printf(&s, "],\"dropped\":%llu}", (unsigned long long)wa->dropped);
	/* nothing changed: nothing to say */
	if (changed || !wa->have_prev) {
		if (!out_line(s.buf, s.len, true))
			wa->dropped++;
	} else {
		wa->seq--;
	}
	sb_free(&s);
	free(seen);
	free(tab);
	if (owned)
		btf__free(btf);
	/* keep this snapshot for the next diff (the fd stays with the watch) */
	if (wa->have_prev)
		map_rows_free(&wa->prev);
	close(cur.fd);
	cur.fd = -1;
	wa->prev = cur;
	wa->have_prev = true;
}

static void watch_release(struct sub *s)
{
	struct watch *wa = (struct watch *)s;
	loop_del(&wa->w);
	close(wa->w.fd);
	if (wa->have_prev)
		map_rows_free(&wa->prev);
	free(wa);
}

void do_map_watch(json_t *id, json_t *params)
{
	int64_t map_id, interval = 1000;
	if (!p_int(id, params, "map_id", true, 1, UINT32_MAX, &map_id) ||
	    !p_int(id, params, "interval_ms", false, 10, 3600000, &interval))
		return;
	struct map_rows r;
	char err[256];
	int e = map_open(map_id, &r, err, sizeof(err));
	if (e) {
		map_err(id, e, err, map_id);
		return;
	}
	map_rows_free(&r);
	struct watch *wa = calloc(1, sizeof(*wa));
	wa->map_id = map_id;
	wa->sub.kind = "map_watch";
	wa->sub.release = watch_release;
	wa->w.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	wa->w.cb = watch_tick;
	wa->w.data = wa;
	/* the first snapshot comes right away, then one per interval */
	struct itimerspec its = {.it_value = {0, 1000000}, .it_interval = {interval / 1000, (interval % 1000) * 1000000}};
	timerfd_settime(wa->w.fd, 0, &its, NULL);
	loop_add(&wa->w, EPOLLIN);
	int sid = sub_add(&wa->sub);
	reply_result(id, json_pack("{s:i,s:i,s:i}", "subscription", sid, "map_id", (int)map_id, "interval_ms", (int)interval));
}
