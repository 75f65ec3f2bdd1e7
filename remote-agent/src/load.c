// SPDX-License-Identifier: Apache-2.0
/*
 * load / unload. An object is opened once to create its maps, then every selected program
 * is loaded from its own bpf_object that reuses those maps (verifier.c): each program gets its
 * own verifier log and verdict, and one program the kernel refuses does not sink the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "verifier.h"

#define MAX_OBJECT (128u << 20)

/* ---- base64 ---- */
static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decodes standard or URL-safe base64 (padding optional); returns length or -1. */
static ssize_t b64_decode(const char *in, size_t n, unsigned char **out)
{
	while (n && (in[n - 1] == '=' || in[n - 1] == '\n'))
		n--;
	if (n % 4 == 1)
		return -1;
	unsigned char *o = malloc(n / 4 * 3 + 3);
	if (!o)
		return -1;
	size_t j = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64val(in[i]);
		if (v < 0) {
			free(o);
			return -1;
		}
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[j++] = (acc >> bits) & 0xff;
		}
	}
	*out = o;
	return j;
}

/* ---- load ---- */
static json_t *map_json(const struct bpf_map *m, const struct btf *btf)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);
	int fd = bpf_map__fd(m);
	bpf_obj_get_info_by_fd(fd, &info, &len);
	const char *t = libbpf_bpf_map_type_str(bpf_map__type(m));
	char *kt = btf && bpf_map__btf_key_type_id(m) ? btf_type_str(btf, bpf_map__btf_key_type_id(m)) : NULL;
	char *vt = btf && bpf_map__btf_value_type_id(m) ? btf_type_str(btf, bpf_map__btf_value_type_id(m)) : NULL;
	json_t *j = json_pack("{s:s,s:I,s:s,s:I,s:I,s:I,s:I,s:s?,s:s?}", "name", bpf_map__name(m), "id",
			      (json_int_t)info.id, "type", t ? t : "unknown", "key_size", (json_int_t)info.key_size,
			      "value_size", (json_int_t)info.value_size, "max_entries", (json_int_t)info.max_entries,
			      "flags", (json_int_t)info.map_flags, "key_type", kt, "value_type", vt);
	free(kt);
	free(vt);
	return j;
}

static json_t *prog_json(struct prog_rec *r, struct verdict *v)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	bpf_obj_get_info_by_fd(r->fd, &info, &len);
	char tag[17];
	for (int i = 0; i < 8; i++)
		snprintf(tag + 2 * i, 3, "%02x", info.tag[i]);
	r->id = info.id;
	const char *t = libbpf_bpf_prog_type_str(bpf_program__type(r->prog));
	return json_pack("{s:s,s:s,s:s,s:I,s:s,s:I,s:I,s:I,s:o}", "name", r->name, "section", r->section, "type",
			 t ? t : "unknown", "id", (json_int_t)info.id, "tag", tag, "verified_insns",
			 (json_int_t)info.verified_insns, "xlated_insns", (json_int_t)(info.xlated_prog_len / 8),
			 "jited_bytes", (json_int_t)info.jited_prog_len, "verifier", verifier_json(v, info.verified_insns));
}

static int read_file(const char *path, void **buf, size_t *size, const char **kind)
{
	struct stat st;
	int fd = open_regular(path, &st, kind);
	if (fd < 0)
		return fd;
	int err = 0;
	if (st.st_size > MAX_OBJECT) {
		err = -EFBIG;
		goto cleanup;
	}
	*buf = malloc(st.st_size ? st.st_size : 1);
	size_t off = 0;
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, (char *)*buf + off, st.st_size - off);
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			free(*buf);
			goto cleanup;
		}
		off += n;
	}
	*size = off;
cleanup:
	close(fd);
	return err;
}

void do_load(json_t *id, json_t *params)
{
	const char *path = NULL, *b64 = NULL, *file_name = NULL;
	int64_t level = 1, log_size = 0, timeout_ms = 30000, into = 0;
	bool partial = false;
	struct handle *h = NULL;
	struct handle *target = NULL; /* load into an existing handle (its maps): `handle` */
	int first_new = 0;
	struct verdict *vs = NULL;
	int nsel = 0;
	const char **sel = NULL;
	json_t *progs_out = NULL, *failed = NULL;

	if (!p_str(id, params, "path", false, &path) || !p_str(id, params, "object", false, &b64) ||
	    !p_str(id, params, "file_name", false, &file_name) ||
	    !p_int(id, params, "log_level", false, 0, 7, &level) ||
	    !p_int(id, params, "log_size", false, LOG_MIN, LOG_MAX, &log_size) ||
	    !p_int(id, params, "timeout_ms", false, 1, 3600000, &timeout_ms) || !p_bool(id, params, "partial", &partial) ||
	    !p_int(id, params, "handle", false, 1, INT32_MAX, &into))
		return;
	if (level & 3) {
		if ((level & 3) == 3) {
			reply_error(id, E_INVALID_PARAMS, NULL, "use 0, 1 or 2, plus 4 for statistics",
				    "log_level %lld is not valid", (long long)level);
			return;
		}
	}
	if (into) {
		target = handle_find(into);
		if (!target) {
			reply_error(id, E_NOT_FOUND, NULL, "handles come from load replies", "no loaded object with handle %lld",
				    (long long)into);
			return;
		}
		if (path || b64 || !json_is_array(json_object_get(params, "programs"))) {
			reply_error(id, E_INVALID_PARAMS, NULL, "to load more programs of a loaded object give only its handle and \"programs\"",
				    "\"handle\" takes \"programs\" and no \"path\" or \"object\"");
			return;
		}
	} else if (!!path == !!b64) {
		reply_error(id, E_INVALID_PARAMS, NULL, "give the object file's path on the agent's machine, or its bytes as base64 in \"object\"",
			    "exactly one of \"path\" or \"object\" is required");
		return;
	}
	json_t *jprogs = json_object_get(params, "programs");
	json_t *jsizes = json_object_get(params, "map_sizes");
	if (jprogs && !json_is_null(jprogs) && !json_is_array(jprogs)) {
		reply_error(id, E_INVALID_PARAMS, NULL, NULL, "\"programs\" must be an array of program names");
		return;
	}
	if (jsizes && !json_is_null(jsizes) && !json_is_object(jsizes)) {
		reply_error(id, E_INVALID_PARAMS, NULL, NULL, "\"map_sizes\" must be an object {map name: max_entries}");
		return;
	}

	/* open: the object's bytes, kept for the per-program objects */
	char err[256];
	struct bpf_program *p;
	if (target) {
		h = target;
		first_new = h->nprogs; /* an early error leaves the handle as it was */
		goto select;
	}
	h = calloc(1, sizeof(*h));
	if (path) {
		const char *kind;
		int e = read_file(path, &h->elf, &h->elf_size, &kind);
		if (e && kind) {
			reply_error(id, E_IO_ERROR, json_pack("{s:s}", "path", path),
				    "give the path of a compiled object (clang -target bpf -c ... -o prog.bpf.o)",
				    "cannot read %s: not a regular file (%s)", path, kind);
			goto cleanup;
		}
		if (e) {
			reply_error(id, e == -ENOENT ? E_NOT_FOUND : (e == -EACCES || e == -EPERM) ? E_PERMISSION_DENIED : E_IO_ERROR,
				    json_pack("{s:s}", "path", path), NULL, "cannot read %s: %s", path, strerror(-e));
			goto cleanup;
		}
	} else {
		unsigned char *bytes;
		ssize_t n = b64_decode(b64, strlen(b64), &bytes);
		if (n < 0) {
			reply_error(id, E_INVALID_BASE64, NULL, "encode the object with standard base64", "\"object\" is not valid base64");
			goto cleanup;
		}
		h->elf = bytes;
		h->elf_size = n;
	}
	/* the object's name, as libbpf derives it from a file: the base name up to the first '.' */
	const char *fn = file_name ? file_name : path;
	if (fn) {
		const char *slash = strrchr(fn, '/');
		snprintf(h->file_name, sizeof(h->file_name), "%s", slash ? slash + 1 : fn);
		char *dot = strchr(h->file_name, '.');
		if (dot)
			*dot = 0;
	}
	int sig = sandbox_open(h);
	if (sig) {
		reply_error(id, E_INVALID_OBJECT, json_pack("{s:s}", "libbpf_log", strsignal(sig)),
			    "the object is corrupt: rebuild it with clang -target bpf -g",
			    "libbpf crashed parsing this object (%s); the agent refused it", strsignal(sig));
		goto cleanup;
	}
	h->maps_obj = obj_open(h, err, sizeof(err));
	if (!h->maps_obj) {
		reply_error(id, E_INVALID_OBJECT, json_pack("{s:s}", "libbpf_log", libbpf_capture_text()),
			    "the file must be a BPF ELF object built with clang -target bpf -g", "not a loadable BPF object: %s", err);
		goto cleanup;
	}
	h->btf = bpf_object__btf(h->maps_obj);

	/* select programs: the ones asked for, else every program libbpf would autoload */
select:;
	int total = 0;
	bpf_object__for_each_program(p, h->maps_obj) total++;
	sel = calloc(total + 1, sizeof(*sel));
	if (jprogs && json_is_array(jprogs)) {
		size_t i;
		json_t *v;
		json_array_foreach(jprogs, i, v)
		{
			if (!json_is_string(v)) {
				reply_error(id, E_INVALID_PARAMS, NULL, NULL, "\"programs\" must be an array of program names");
				goto cleanup;
			}
			if (!bpf_object__find_program_by_name(h->maps_obj, json_string_value(v))) {
				json_t *names = json_array();
				bpf_object__for_each_program(p, h->maps_obj) json_array_append_new(names, json_string(bpf_program__name(p)));
				reply_error(id, E_NOT_FOUND, json_pack("{s:o}", "available", names), NULL,
					    "the object has no program named '%s'", json_string_value(v));
				goto cleanup;
			}
			if (target && prog_find(target, json_string_value(v))) {
				reply_error(id, E_INVALID_PARAMS, json_pack("{s:s}", "program", json_string_value(v)),
					    "attach it, or unload the handle and load again", "'%s' is already loaded in handle %d",
					    json_string_value(v), target->id);
				goto cleanup;
			}
			bool dup = false;
			for (int k = 0; k < nsel; k++)
				dup |= !strcmp(sel[k], json_string_value(v));
			if (!dup && nsel < total)
				sel[nsel++] = json_string_value(v);
		}
	} else {
		bpf_object__for_each_program(p, h->maps_obj) if (bpf_program__autoload(p)) sel[nsel++] = bpf_program__name(p);
	}
	if (target)
		goto load;
	if (jsizes && json_is_object(jsizes)) {
		const char *k;
		json_t *v;
		json_object_foreach(jsizes, k, v)
		{
			struct bpf_map *m = bpf_object__find_map_by_name(h->maps_obj, k);
			if (!m || !json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > UINT32_MAX) {
				reply_error(id, m ? E_INVALID_PARAMS : E_NOT_FOUND, NULL, NULL,
					    m ? "map_sizes.%s must be a positive integer" : "the object has no map named '%s'", k);
				goto cleanup;
			}
			bpf_map__set_max_entries(m, json_integer_value(v));
		}
	}

	/* create the maps (no programs yet) */
	bpf_object__for_each_program(p, h->maps_obj) bpf_program__set_autoload(p, false);
	libbpf_capture_reset();
	if (bpf_object__load(h->maps_obj)) {
		int e = errno;
		reply_error(id, e == EPERM ? E_PERMISSION_DENIED : E_LOAD_FAILED,
			    json_pack("{s:s,s:i}", "libbpf_log", libbpf_capture_text(), "errno", e),
			    e == EPERM ? "run the agent as root (or with CAP_BPF)" : "check map definitions and map_sizes",
			    "creating the object's maps failed: %s", strerror(e));
		goto cleanup;
	}

	/* load: each selected program from its own object, sharing the maps */
load:;
	struct load_opts lo = {.log_level = level, .timeout_ms = timeout_ms};
	lo.log_size = log_size ? (size_t)log_size : (level & 2) ? (16u << 20) : (level & 1) ? (1u << 20) : (1u << 16);
	vs = calloc(nsel ? nsel : 1, sizeof(*vs));
	first_new = h->nprogs;
	struct prog_rec *grown = realloc(h->progs, (h->nprogs + (nsel ? nsel : 1)) * sizeof(*h->progs));
	if (!grown) {
		reply_error(id, E_INTERNAL, NULL, NULL, "out of memory");
		goto cleanup;
	}
	h->progs = grown;
	progs_out = json_array();
	failed = json_array();
	int nfail = 0, first_fail = -1;
	for (int i = 0; i < nsel; i++) {
		struct bpf_program *mp = bpf_object__find_program_by_name(h->maps_obj, sel[i]);
		const char *type = libbpf_bpf_prog_type_str(bpf_program__type(mp));
		/* between programs: the client may have cancelled (or gone); release what this request loaded */
		if (i && request_cancelled(id)) {
			json_t *done = json_array();
			for (int k = first_new; k < h->nprogs; k++)
				json_array_append_new(done, json_string(h->progs[k].name));
			reply_error(id, E_CANCELLED, json_pack("{s:o,s:i,s:i}", "released", done, "done", i, "total", nsel),
				    NULL, "the load was cancelled after %d of %d programs; what it loaded was released", i, nsel);
			goto cleanup;
		}
		load_one(h, sel[i], &lo, &vs[i]);
		out_json(json_pack("{s:s,s:O,s:s,s:i,s:i,s:s}", "event", EV_LOAD_PROGRESS, "request", id, "program", sel[i],
				   "index", i + 1, "total", nsel, "verdict",
				   !vs[i].err					  ? "loaded"
				   : !strcmp(failure_code(&vs[i]), E_VERIFIER_REJECTED) ? "rejected"
											: "refused"));
		if (vs[i].err) {
			nfail++;
			if (first_fail < 0)
				first_fail = i;
			json_t *f = json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s?,s:i,s:s},s:o}", "name", sel[i], "section",
					      bpf_program__section_name(mp), "type", type ? type : "unknown", "error", "code",
					      failure_code(&vs[i]), "message", strerror(-vs[i].err), "hint",
					      failure_hint(&vs[i], type), "errno", -vs[i].err, "libbpf_log",
					      vs[i].libbpf_text ? vs[i].libbpf_text : "", "verifier", verifier_json(&vs[i], 0));
			json_array_append_new(failed, f);
			continue;
		}
		struct prog_rec *r = &h->progs[h->nprogs++];
		r->name = strdup(sel[i]);
		r->section = strdup(bpf_program__section_name(vs[i].prog));
		r->obj = vs[i].obj;
		r->prog = vs[i].prog;
		r->fd = bpf_program__fd(vs[i].prog);
		json_array_append_new(progs_out, prog_json(r, &vs[i]));
	}

	if (nfail && !partial) {
		/* one program failed: report every verdict, keep nothing loaded */
		struct verdict *v = &vs[first_fail];
		struct bpf_program *mp = bpf_object__find_program_by_name(h->maps_obj, sel[first_fail]);
		const char *type = libbpf_bpf_prog_type_str(bpf_program__type(mp));
		const char *code = failure_code(v);
		json_t *extra = json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:b,s:o,s:s,s:O,s:O}", "program", sel[first_fail], "section",
					  bpf_program__section_name(mp), "type", type ? type : "unknown", "errno", -v->err,
					  "errno_text", strerror(-v->err), "log", v->log ? v->log : "", "truncated",
					  v->truncated, "stats", parse_stats(v->log ? v->log : "", 0), "libbpf_log",
					  v->libbpf_text ? v->libbpf_text : "", "failed", failed, "loaded", progs_out);
		reply_error(id, code, extra, failure_hint(v, type), "%s: program '%s' (%s): %s",
			    !strcmp(code, E_VERIFIER_REJECTED) ? "the verifier rejected the program"
			    : !strcmp(code, E_VERIFIER_TIMEOUT) ? "verification timed out"
								 : "the kernel did not load the program",
			    sel[first_fail], bpf_program__section_name(mp), v->timeout ? "timed out" : strerror(-v->err));
		goto cleanup;
	}

	/* register the handle (a load into an existing one keeps it) */
	if (!target)
		handle_register(h);
	json_t *maps_out = json_array();
	struct bpf_map *m;
	bpf_object__for_each_map(m, h->maps_obj) json_array_append_new(maps_out, map_json(m, h->btf));
	json_t *res = json_pack("{s:i,s:O,s:o}", "handle", h->id, "programs", progs_out, "maps", maps_out);
	if (nfail)
		json_object_set(res, "failed", failed);
	h = NULL;
	reply_result(id, res);

cleanup:
	for (int i = 0; vs && i < nsel; i++)
		verdict_free(&vs[i]);
	free(vs);
	free(sel);
	json_decref(progs_out);
	json_decref(failed);
	if (h && h == target) {
		/* a load into an existing handle that did not complete: only what it added goes */
		for (int k = first_new; k < h->nprogs; k++) {
			bpf_object__close(h->progs[k].obj);
			free(h->progs[k].name);
			free(h->progs[k].section);
		}
		h->nprogs = first_new;
	} else if (h)
		handle_free(h);
}

void do_unload(json_t *id, json_t *params)
{
	int64_t hid;
	if (!p_int(id, params, "handle", true, 1, INT32_MAX, &hid))
		return;
	struct handle *h = handle_take(hid);
	if (!h) {
		reply_error(id, E_NOT_FOUND, NULL, "handles come from load replies", "no loaded object with handle %lld", (long long)hid);
		return;
	}
	int nlinks = links_release_for_handle(h->id);
	int nprogs = h->nprogs;
	handle_free(h);
	reply_result(id, json_pack("{s:i,s:i,s:i}", "handle", (int)hid, "programs_released", nprogs, "links_released", nlinks));
}
