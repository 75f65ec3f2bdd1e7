// SPDX-License-Identifier: Apache-2.0
/*
 * features (what this kernel supports, probed here rather than taken from bpftool, whose
 * helper lists are wrong on new kernels), btf_dump (vmlinux.h in chunks) and prog_stats
 * (run_cnt/run_time_ns through bpf_enable_stats, not the sysctl).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "agent.h"

/* ---- prog_stats ---- */
int g_stats_fd = -1;
static struct timespec stats_since;

void stats_release(void)
{
	if (g_stats_fd >= 0)
		close(g_stats_fd);
	g_stats_fd = -1;
}

/* KSYM_NAME_LEN: the longest function name the kernel keeps */
#define KSYM_NAME 512

/*
 * A program's whole name, as bpftool finds it: the kernel keeps 15 characters (`handle_sched_wa` for both
 * handle_sched_wakeup and handle_sched_wakeup_new); a name that long is looked up in the program's BTF, as the
 * name of its first function (func_info). Falls back to the kernel's name.
 */
static void prog_full_name(int fd, const struct bpf_prog_info *info, char *out, size_t n)
{
	snprintf(out, n, "%s", info->name);
	if (strlen(info->name) < BPF_OBJ_NAME_LEN - 1 || !info->btf_id || !info->nr_func_info)
		return;
	struct bpf_func_info finfo = {};
	struct bpf_prog_info fi = {};
	uint32_t len = sizeof(fi);
	fi.nr_func_info = 1;
	fi.func_info_rec_size = sizeof(finfo);
	fi.func_info = (uint64_t)(uintptr_t)&finfo;
	if (bpf_obj_get_info_by_fd(fd, &fi, &len))
		return;
	struct btf *btf = btf__load_from_kernel_by_id(info->btf_id);
	if (!btf)
		return;
	const struct btf_type *t = btf__type_by_id(btf, finfo.type_id);
	const char *name = t && btf_is_func(t) ? btf__name_by_offset(btf, t->name_off) : NULL;
	if (name && *name)
		snprintf(out, n, "%s", name);
	btf__free(btf);
}

/*
 * A program's info by id (prog_stats, list) and its whole name (`name`, KSYM_NAME_LEN bytes); with `map_ids`,
 * also the ids of up to `nmaps` maps it uses. False when it is gone meanwhile or not ours to open.
 */
static bool prog_info_by_id(uint32_t prog_id, struct bpf_prog_info *info, uint32_t *map_ids, uint32_t nmaps,
			    char *name, size_t name_len)
{
	int fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return false;
	memset(info, 0, sizeof(*info));
	if (map_ids) {
		info->nr_map_ids = nmaps;
		info->map_ids = (uint64_t)(uintptr_t)map_ids;
	}
	uint32_t len = sizeof(*info);
	bool ok = !bpf_obj_get_info_by_fd(fd, info, &len);
	if (ok)
		prog_full_name(fd, info, name, name_len);
	close(fd);
	return ok;
}

static json_t *prog_stat_json(uint32_t prog_id)
{
	struct bpf_prog_info info;
	char name[KSYM_NAME];
	if (!prog_info_by_id(prog_id, &info, NULL, 0, name, sizeof(name)))
		return NULL;
	return json_pack("{s:I,s:s,s:s,s:I,s:I,s:I,s:o}", "id", (json_int_t)info.id, "name", name, "kernel_name", info.name,
			 "run_cnt",
			 (json_int_t)info.run_cnt, "run_time_ns", (json_int_t)info.run_time_ns, "recursion_misses",
			 (json_int_t)info.recursion_misses, "avg_ns",
			 info.run_cnt ? json_real((double)info.run_time_ns / info.run_cnt) : json_null());
}

void do_prog_stats(json_t *id, json_t *params)
{
	int64_t hid = 0;
	bool enable = true;
	if (!p_int(id, params, "handle", false, 1, INT32_MAX, &hid) || !p_bool(id, params, "enable", &enable))
		return;
	json_t *ids = json_object_get(params, "ids");
	if (ids && !json_is_array(ids)) {
		reply_error(id, E_INVALID_PARAMS, NULL, NULL, "\"ids\" must be an array of program ids");
		return;
	}
	if (!enable) {
		stats_release();
		reply_result(id, json_pack("{s:b,s:[]}", "enabled", 0, "programs"));
		return;
	}
	/* counting runs only while this fd is open */
	if (g_stats_fd < 0) {
		g_stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (g_stats_fd < 0) {
			int e = errno;
			reply_error(id, e == EPERM ? E_PERMISSION_DENIED : E_NOT_SUPPORTED, NULL,
				    "needs CAP_SYS_ADMIN; or set sysctl kernel.bpf_stats_enabled=1", "bpf_enable_stats failed: %s",
				    strerror(e));
			return;
		}
		clock_gettime(CLOCK_MONOTONIC, &stats_since);
	}
	json_t *out = json_array();
	if (ids) {
		size_t i;
		json_t *v;
		json_array_foreach(ids, i, v)
		{
			json_t *s = json_is_integer(v) ? prog_stat_json(json_integer_value(v)) : NULL;
			if (s)
				json_array_append_new(out, s);
		}
	} else {
		struct handle *h = hid ? handle_find(hid) : NULL;
		if (hid && !h) {
			json_decref(out);
			reply_error(id, E_NOT_FOUND, NULL, NULL, "no loaded object with handle %lld", (long long)hid);
			return;
		}
		for (struct handle *x = h ? h : handle_next(NULL); x; x = h ? NULL : handle_next(x)) {
			for (int i = 0; i < x->nprogs; i++) {
				json_t *s = prog_stat_json(x->progs[i].id);
				if (s) {
					json_object_set_new(s, "handle", json_integer(x->id));
					json_array_append_new(out, s);
				}
			}
		}
	}
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double ms = (now.tv_sec - stats_since.tv_sec) * 1e3 + (now.tv_nsec - stats_since.tv_nsec) / 1e6;
	reply_result(id, json_pack("{s:b,s:f,s:o}", "enabled", 1, "enabled_for_ms", ms, "programs", out));
}

/* ---- list: every program and map on the box (bpftool prog/map show) ---- */
static int handle_of_prog(uint32_t prog_id)
{
	for (struct handle *h = handle_next(NULL); h; h = handle_next(h))
		for (int i = 0; i < h->nprogs; i++)
			if (h->progs[i].id == prog_id)
				return h->id;
	return 0;
}

static json_t *list_prog(uint32_t prog_id)
{
	uint32_t map_ids[64];
	struct bpf_prog_info info;
	char name[KSYM_NAME];
	if (!prog_info_by_id(prog_id, &info, map_ids, 64, name, sizeof(name)))
		return NULL;
	char tag[17];
	for (int i = 0; i < 8; i++)
		snprintf(tag + 2 * i, 3, "%02x", info.tag[i]);
	const char *type = libbpf_bpf_prog_type_str(info.type);
	json_t *maps = json_array();
	for (uint32_t i = 0; i < info.nr_map_ids && i < 64; i++)
		json_array_append_new(maps, json_integer(map_ids[i]));
	int h = handle_of_prog(info.id);
	json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:o,s:I,s:I}", "id", (json_int_t)info.id, "name", name,
			      "kernel_name", info.name, "type", type ? type : "unknown", "tag", tag, "uid", (json_int_t)info.created_by_uid,
			      "loaded_at_ns", (json_int_t)info.load_time, "verified_insns", (json_int_t)info.verified_insns,
			      "map_ids", maps, "run_cnt", (json_int_t)info.run_cnt, "run_time_ns", (json_int_t)info.run_time_ns);
	if (info.btf_id)
		json_object_set_new(j, "btf_id", json_integer(info.btf_id));
	if (h)
		json_object_set_new(j, "handle", json_integer(h));
	return j;
}

static json_t *list_map(uint32_t map_id)
{
	int fd = bpf_map_get_fd_by_id(map_id);
	if (fd < 0)
		return NULL;
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);
	json_t *j = NULL;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		const char *type = libbpf_bpf_map_type_str(info.type);
		struct handle *h = handle_by_map_id(info.id);
		j = json_pack("{s:I,s:s,s:s,s:I,s:I,s:I,s:I}", "id", (json_int_t)info.id, "name", info.name, "type",
			      type ? type : "unknown", "key_size", (json_int_t)info.key_size, "value_size",
			      (json_int_t)info.value_size, "max_entries", (json_int_t)info.max_entries, "flags",
			      (json_int_t)info.map_flags);
		if (info.btf_id)
			json_object_set_new(j, "btf_id", json_integer(info.btf_id));
		if (h)
			json_object_set_new(j, "handle", json_integer(h->id));
	}
	close(fd);
	return j;
}

void do_list(json_t *id, json_t *params)
{
	json_t *progs = json_array(), *maps = json_array();
	uint32_t next = 0;
	while (!bpf_prog_get_next_id(next, &next)) {
		json_t *p = list_prog(next);
		if (p)
			json_array_append_new(progs, p);
	}
	next = 0;
	while (!bpf_map_get_next_id(next, &next)) {
		json_t *m = list_map(next);
		if (m)
			json_array_append_new(maps, m);
	}
	reply_result(id, json_pack("{s:o,s:o}", "programs", progs, "maps", maps));
}

/* ---- features ---- */
#define FN(x) "bpf_" #x
static const char *helper_names[] = {__BPF_FUNC_MAPPER(FN)};
#undef FN

struct probe_type {
	enum bpf_prog_type type;
	enum bpf_attach_type attach;
};

/* program types whose helper lists we probe (tracing/ext/lsm/struct_ops need a BTF target) */
static const struct probe_type probe_types[] = {
	{BPF_PROG_TYPE_SOCKET_FILTER},      {BPF_PROG_TYPE_KPROBE},
	{BPF_PROG_TYPE_SCHED_CLS},          {BPF_PROG_TYPE_SCHED_ACT},
	{BPF_PROG_TYPE_TRACEPOINT},         {BPF_PROG_TYPE_XDP},
	{BPF_PROG_TYPE_PERF_EVENT},         {BPF_PROG_TYPE_CGROUP_SKB},
	{BPF_PROG_TYPE_CGROUP_SOCK},        {BPF_PROG_TYPE_LWT_IN},
	{BPF_PROG_TYPE_LWT_OUT},            {BPF_PROG_TYPE_LWT_XMIT},
	{BPF_PROG_TYPE_SOCK_OPS},           {BPF_PROG_TYPE_SK_SKB},
	{BPF_PROG_TYPE_CGROUP_DEVICE},      {BPF_PROG_TYPE_SK_MSG},
	{BPF_PROG_TYPE_RAW_TRACEPOINT},     {BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT},
	{BPF_PROG_TYPE_LWT_SEG6LOCAL},      {BPF_PROG_TYPE_SK_REUSEPORT},
	{BPF_PROG_TYPE_FLOW_DISSECTOR},     {BPF_PROG_TYPE_CGROUP_SYSCTL},
	{BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE}, {BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_GETSOCKOPT},
	{BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP}, {BPF_PROG_TYPE_SYSCALL},
};

/* 1: allowed, 0: not for this type, -1: the kernel does not know the helper */
static int probe_helper(const struct probe_type *pt, int helper, char *log, size_t logsz)
{
	struct bpf_insn insns[] = {
		{.code = BPF_JMP | BPF_CALL, .imm = helper},
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log, .log_size = logsz, .log_level = 1,
		    .expected_attach_type = pt->attach,
		    .prog_flags = pt->type == BPF_PROG_TYPE_SYSCALL ? BPF_F_SLEEPABLE : 0);
	log[0] = 0;
	int fd = bpf_prog_load(pt->type, NULL, "GPL", insns, 3, &o);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (strstr(log, "invalid func unknown#") || strstr(log, "unknown func "))
		return -1;
	if (strstr(log, "cannot use helper") || strstr(log, "not supported") || strstr(log, "not allowed") ||
	    strstr(log, "helper call is not allowed") || strstr(log, "only read from bpf_array is supported"))
		return 0;
	/* any later complaint (argument types, uninitialised registers) means the helper is allowed */
	return log[0] ? 1 : 0;
}

static json_t *helpers_json(void)
{
	json_t *out = json_object();
	char log[4096];
	int maxid = ARRAY_SIZE(helper_names) + 16;
	for (size_t t = 0; t < ARRAY_SIZE(probe_types); t++) {
		if (libbpf_probe_bpf_prog_type(probe_types[t].type, NULL) != 1)
			continue;
		/* a helper id no kernel has must read as unknown, or this type's probe is not trustworthy */
		if (probe_helper(&probe_types[t], 100000, log, sizeof(log)) != -1)
			continue;
		json_t *list = json_array();
		int unknown_run = 0;
		for (int h = 1; h < maxid && unknown_run < 8; h++) {
			int r = probe_helper(&probe_types[t], h, log, sizeof(log));
			unknown_run = r < 0 ? unknown_run + 1 : 0;
			if (r == 1) {
				char name[32];
				/* names past this build's uapi header (6.1) */
				static const char *const later[] = {"bpf_cgrp_storage_get", "bpf_cgrp_storage_delete"};
				if ((size_t)h < ARRAY_SIZE(helper_names))
					json_array_append_new(list, json_string(helper_names[h]));
				else if (h >= 210 && h < 210 + (int)ARRAY_SIZE(later))
					json_array_append_new(list, json_string(later[h - 210]));
				else
					snprintf(name, sizeof(name), "helper#%d", h), json_array_append_new(list, json_string(name));
			}
		}
		json_object_set_new(out, libbpf_bpf_prog_type_str(probe_types[t].type), list);
	}
	return out;
}

static json_t *lines_of(const char *path, size_t max)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	json_t *a = json_array();
	char line[512];
	while (fgets(line, sizeof(line), f) && json_array_size(a) < max) {
		line[strcspn(line, "\n")] = 0;
		if (line[0])
			json_array_append_new(a, json_string(line));
	}
	fclose(f);
	return a;
}

static bool want(json_t *include, const char *what)
{
	if (!include)
		return true;
	size_t i;
	json_t *v;
	json_array_foreach(include, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), what)) return true;
	return false;
}

void do_features(json_t *id, json_t *params)
{
	json_t *include = json_object_get(params, "include");
	if (include && !json_is_array(include)) {
		reply_error(id, E_INVALID_PARAMS, NULL,
			    "sections: program_types map_types helpers kfuncs tracepoints btf_functions lsm_hooks",
			    "\"include\" must be an array of section names");
		return;
	}
	struct utsname_s {
		char r[256];
	} rel = {""};
	FILE *f = fopen("/proc/sys/kernel/osrelease", "re");
	if (f) {
		if (fgets(rel.r, sizeof(rel.r), f))
			rel.r[strcspn(rel.r, "\n")] = 0;
		fclose(f);
	}
	json_t *res = json_object();
	json_object_set_new(res, "kernel_release", json_string(rel.r));
	if (want(include, "program_types")) {
		json_t *a = json_array();
		for (int t = 1; t < 64; t++) {
			const char *n = libbpf_bpf_prog_type_str(t);
			if (n && libbpf_probe_bpf_prog_type(t, NULL) == 1)
				json_array_append_new(a, json_string(n));
		}
		json_object_set_new(res, "program_types", a);
	}
	if (want(include, "map_types")) {
		json_t *a = json_array();
		for (int t = 1; t < 64; t++) {
			const char *n = libbpf_bpf_map_type_str(t);
			if (n && libbpf_probe_bpf_map_type(t, NULL) == 1)
				json_array_append_new(a, json_string(n));
		}
		json_object_set_new(res, "map_types", a);
	}
	if (want(include, "helpers"))
		json_object_set_new(res, "helpers", helpers_json());
	struct btf *vml = NULL;
	if (want(include, "kfuncs") || want(include, "btf_functions") || want(include, "lsm_hooks"))
		vml = btf__load_vmlinux_btf();
	if (vml) {
		json_t *kf = json_array(), *fns = json_array(), *lsm = json_array();
		int n = btf__type_cnt(vml);
		for (int i = 1; i < n; i++) {
			const struct btf_type *t = btf__type_by_id(vml, i);
			const char *name = btf__name_by_offset(vml, t->name_off);
			if (btf_is_decl_tag(t) && !strcmp(name, "bpf_kfunc") && btf_decl_tag(t)->component_idx == -1) {
				const struct btf_type *fn = btf__type_by_id(vml, t->type);
				if (fn && btf_is_func(fn))
					json_array_append_new(kf, json_string(btf__name_by_offset(vml, fn->name_off)));
			} else if (btf_is_func(t)) {
				json_array_append_new(fns, json_string(name));
				if (!strncmp(name, "bpf_lsm_", 8))
					json_array_append_new(lsm, json_string(name + 8));
			}
		}
		btf__free(vml);
		want(include, "kfuncs") ? json_object_set_new(res, "kfuncs", kf) : json_decref(kf);
		want(include, "btf_functions") ? json_object_set_new(res, "btf_functions", fns) : json_decref(fns);
		want(include, "lsm_hooks") ? json_object_set_new(res, "lsm_hooks", lsm) : json_decref(lsm);
	}
	const char *tfs = tracefs_path(true);
	if (want(include, "tracepoints")) {
		char path[256];
		snprintf(path, sizeof(path), "%s/available_events", tfs ? tfs : "/sys/kernel/tracing");
		json_t *tp = tfs ? lines_of(path, 1 << 20) : NULL;
		json_object_set_new(res, "tracepoints", tp ? tp : json_null());
	}
	json_object_set_new(res, "fs", json_pack("{s:b,s:b,s:s?}", "bpffs", is_mounted("/sys/fs/bpf", BPF_FS_MAGIC), "tracefs",
						 tfs != NULL, "tracefs_path", tfs));
	json_object_set_new(res, "btf", json_boolean(access("/sys/kernel/btf/vmlinux", R_OK) == 0));
	reply_result(id, res);
}

/* ---- btf_dump ---- */
static struct sbuf vmlinux_h;

static void dump_printf(void *ctx, const char *fmt, va_list args)
{
	struct sbuf *s = ctx;
	va_list ap;
	va_copy(ap, args);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	sb_grow(s, n);
	vsnprintf(s->buf + s->len, n + 1, fmt, args);
	s->len += n;
}

static int make_vmlinux_h(char *err, size_t errlen)
{
	if (vmlinux_h.buf)
		return 0;
	struct btf *btf = btf__load_vmlinux_btf();
	if (!btf) {
		snprintf(err, errlen, "cannot read the kernel's BTF: %s", strerror(errno));
		return -errno;
	}
	sb_init(&vmlinux_h, 4u << 20);
	struct btf_dump *d = btf_dump__new(btf, dump_printf, &vmlinux_h, NULL);
	/* the same framing bpftool's "format c" writes */
	sb_puts(&vmlinux_h, "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
			    "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n");
	int n = btf__type_cnt(btf), e = 0;
	for (int i = 1; i < n && !e; i++)
		e = btf_dump__dump_type(d, i);
	sb_puts(&vmlinux_h, "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n");
	btf_dump__free(d);
	btf__free(btf);
	if (!e) {
		/* match bpftool's output (its newer libbpf): "(void)" for empty parameter lists, and
		 * no mode(byte) attribute on 1-byte enums */
		struct sbuf o;
		sb_init(&o, vmlinux_h.len + (1u << 16));
		static const char mb[] = "\n} __attribute__((mode(byte)));";
		for (size_t i = 0; i < vmlinux_h.len; i++) {
			const char *p = vmlinux_h.buf + i;
			if (p[0] == '(' && p[1] == ')') {
				sb_puts(&o, "(void)");
				i++;
			} else if (p[0] == '\n' && !strncmp(p, mb, sizeof(mb) - 1)) {
				sb_puts(&o, "\n};");
				i += sizeof(mb) - 2;
			} else {
				/* copy up to the next character that may start a pattern */
				size_t j = i + 1;
				while (j < vmlinux_h.len && vmlinux_h.buf[j] != '(' && vmlinux_h.buf[j] != '\n')
					j++;
				sb_putn(&o, p, j - i);
				i = j - 1;
			}
		}
		sb_free(&vmlinux_h);
		vmlinux_h = o;
	}
	if (e) {
		sb_free(&vmlinux_h);
		snprintf(err, errlen, "dumping BTF failed: %s", strerror(-e));
		return e;
	}
	return 0;
}

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

void do_btf_dump(json_t *id, json_t *params)
{
	int64_t offset = 0, length = 1 << 20;
	if (!p_int(id, params, "offset", false, 0, INT64_MAX, &offset) ||
	    !p_int(id, params, "length", false, 1, 16 << 20, &length))
		return;
	char err[256];
	if (make_vmlinux_h(err, sizeof(err))) {
		reply_error(id, E_BTF_ERROR, NULL, "the kernel needs CONFIG_DEBUG_INFO_BTF=y", "%s", err);
		return;
	}
	if ((size_t)offset > vmlinux_h.len) {
		reply_error(id, E_INVALID_PARAMS, NULL, NULL, "offset %lld is past the end (%zu bytes)", (long long)offset, vmlinux_h.len);
		return;
	}
	size_t n = vmlinux_h.len - offset < (size_t)length ? vmlinux_h.len - offset : (size_t)length;
	char sum[20];
	snprintf(sum, sizeof(sum), "%016llx", (unsigned long long)fnv1a(vmlinux_h.buf, vmlinux_h.len));
	struct sbuf s;
	sb_init(&s, n + 256);
	sb_printf(&s, "{\"offset\":%lld,\"length\":%zu,\"total_bytes\":%zu,\"done\":%s,\"fnv1a64\":\"%s\",\"data\":", (long long)offset,
		  n, vmlinux_h.len, offset + n >= vmlinux_h.len ? "true" : "false", sum);
	sb_json_strn(&s, vmlinux_h.buf + offset, n);
	sb_putc(&s, '}');
	reply_result_raw(id, s.buf, s.len);
	sb_free(&s);
}
