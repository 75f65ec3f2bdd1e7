// SPDX-License-Identifier: Apache-2.0
/*
 * map_dump / map_update / map_delete. Keys and values are decoded with the map's BTF (see
 * btf_json.c) and read with batch lookups (map_rows.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "agent.h"

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

void map_reply_error(json_t *id, int e, const char *msg, uint32_t map_id)
{
	if (e == -E2BIG) {
		reply_error(id, E_TOO_LARGE, json_pack("{s:i,s:I}", "map_id", (int)map_id, "budget_bytes", (json_int_t)MAP_READ_BUDGET),
			    "read the map in pages with map_dump, or make its entries smaller",
			    "map %u: %s (more than the agent's read budget of %u MiB)", map_id, msg, MAP_READ_BUDGET >> 20);
		return;
	}
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
		map_reply_error(id, e, err, map_id);
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
			map_reply_error(id, e, e == -E2BIG ? "one hash bucket of its entries is too large" : strerror(-e), map_id);
		goto cleanup;
	}
	/* reply: hand-built JSON straight into the output line, this is the hot path */
	struct sbuf s;
	size_t guess = 256 + r.n * (r.ksz + r.vsz) * (columns ? 2 : 4);
	sb_init(&s, guess < (16u << 20) ? guess : (16u << 20)); /* it grows from there if needed */
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
			rows_value_json(&s, &r, btf, r.vals + i * r.vsz);
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
		map_reply_error(id, e, err, map_id);
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
		map_reply_error(id, e, err, map_id);
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
