/* SPDX-License-Identifier: Apache-2.0 */
/* Shared declarations of the agent: output, errors, the object registry, the event loop. */
#ifndef BPF_AGENT_H
#define BPF_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <jansson.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>
#include "protocol.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- growable string buffer (fast JSON output) ---- */
struct sbuf {
	char *buf;
	size_t len, cap;
};
void sb_init(struct sbuf *s, size_t cap);
void sb_free(struct sbuf *s);
void sb_grow(struct sbuf *s, size_t extra);
void sb_putn(struct sbuf *s, const char *p, size_t n);
void sb_puts(struct sbuf *s, const char *p);
void sb_putc(struct sbuf *s, char c);
void sb_printf(struct sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_u64(struct sbuf *s, uint64_t v);
void sb_i64(struct sbuf *s, int64_t v);
/* JSON number for integers that fit a double exactly, else a decimal string. */
void sb_json_u64(struct sbuf *s, uint64_t v);
void sb_json_i64(struct sbuf *s, int64_t v);
void sb_json_str(struct sbuf *s, const char *p);
void sb_json_strn(struct sbuf *s, const char *p, size_t n);
void sb_hex(struct sbuf *s, const void *p, size_t n); /* "0a1b..." with quotes */
void sb_json(struct sbuf *s, const json_t *j);      /* a jansson value, compact */

/* ---- output (stdout, JSON lines) ---- */
/* Writes one line. Replies are never dropped; droppable lines (stream events) are dropped
 * when the client does not keep up, and the caller counts the drop. */
bool out_line(const char *p, size_t n, bool droppable);
void out_flush_blocking(void);
void out_json(json_t *j); /* takes ownership */
void reply_result(json_t *id, json_t *result); /* takes ownership of result */
void reply_result_raw(json_t *id, const char *result_json, size_t n);
/* Starts a hand-built reply line in s: {"id":..,"result": -- the caller closes it with '}'. */
void sb_reply_begin(struct sbuf *s, json_t *id);
/* An error reply; extra (may be NULL) is merged into the error object, ownership taken. */
void reply_error(json_t *id, const char *code, json_t *extra, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void emit_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- libbpf messages, captured per request so errors can carry them ---- */
void libbpf_capture_reset(void);
const char *libbpf_capture_text(void);

/* ---- event loop ---- */
struct watcher;
typedef void (*watch_cb)(struct watcher *w, uint32_t events);
struct watcher {
	int fd;
	watch_cb cb;
	void *data;
};
int loop_add(struct watcher *w, uint32_t events);
int loop_mod(struct watcher *w, uint32_t events);
void loop_del(struct watcher *w);

/* ---- registry of what this agent created ---- */
struct prog_rec {
	char *name;
	char *section;
	int fd;          /* owned by obj */
	uint32_t id;
	struct bpf_object *obj; /* the per-program object that loaded it */
	struct bpf_program *prog;
};

struct handle {
	int id;
	struct handle *next;
	void *elf;          /* copy of the object file */
	size_t elf_size;
	struct bpf_object *maps_obj; /* owns the maps */
	struct prog_rec *progs;
	int nprogs;
	struct btf *btf;    /* the object's BTF (owned by maps_obj) */
	char file_name[256]; /* the object file's name: libbpf names the object (and .rodata, .bss maps) after it */
};

struct handle *handle_find(int id);
int handle_register(struct handle *h);   /* assigns the id */
struct handle *handle_take(int id);      /* unlinks it; the caller frees it */
void handle_free(struct handle *h);
struct handle *handle_next(struct handle *h); /* NULL: the first; iterates every loaded handle */
struct handle *handle_by_map_id(uint32_t map_id);
struct prog_rec *prog_find(struct handle *h, const char *name);
void handles_release_all(void);
int links_release_for_handle(int handle_id);
void links_release_all(void);
void subs_release_all(void);
void stats_release(void);

/* ---- params helpers (return false after replying invalid_params) ---- */
bool p_int(json_t *id, json_t *params, const char *key, bool required, int64_t min, int64_t max, int64_t *out);
bool p_str(json_t *id, json_t *params, const char *key, bool required, const char **out);
bool p_bool(json_t *id, json_t *params, const char *key, bool *out);

/* ---- command handlers ---- */
typedef void (*cmd_fn)(json_t *id, json_t *params);
void do_load(json_t *id, json_t *params);
/* Between steps of a long request: true when the client sent `cancel` for it (or closed stdin).
 * Lines read meanwhile are kept and served after the request. */
bool request_cancelled(json_t *req_id);
void do_exec(json_t *id, json_t *params);
/* --allow-exec: serve `exec` (set by the init of bpf-ide's VM guests only) */
extern bool g_allow_exec;
void do_unload(json_t *id, json_t *params);
void do_attach(json_t *id, json_t *params);
void do_detach(json_t *id, json_t *params);
void do_map_dump(json_t *id, json_t *params);
void do_map_update(json_t *id, json_t *params);
void do_map_delete(json_t *id, json_t *params);
void do_map_watch(json_t *id, json_t *params);
void do_ringbuf_subscribe(json_t *id, json_t *params);
void do_perfbuf_subscribe(json_t *id, json_t *params);
void do_trace_subscribe(json_t *id, json_t *params);
void do_unsubscribe(json_t *id, json_t *params);
void do_prog_stats(json_t *id, json_t *params);
void do_list(json_t *id, json_t *params);
void do_features(json_t *id, json_t *params);
void do_btf_dump(json_t *id, json_t *params);
void do_pin(json_t *id, json_t *params);
void do_unpin(json_t *id, json_t *params);

/* ---- BTF <-> JSON ---- */
struct btf *btf_for_map(uint32_t map_id, uint32_t btf_id, bool *owned);
void btf_value_json(struct sbuf *s, const struct btf *btf, uint32_t type_id, const void *data, size_t size);
/* Encodes JSON into size bytes at out; returns 0 or -errno and a message in err. */
int btf_value_from_json(const struct btf *btf, uint32_t type_id, json_t *j, void *out, size_t size,
			char *err, size_t errlen);
char *btf_type_str(const struct btf *btf, uint32_t type_id); /* malloc'd "struct event", "__u32" */
uint32_t btf_skip_mods(const struct btf *btf, uint32_t id); /* through typedefs, const, volatile */
bool btf_is_char(const struct btf *btf, uint32_t id);
uint32_t btf_find_type(const struct btf *btf, const char *name);

/* ---- paths the client names ---- */
struct stat;
/* Opens a regular file for reading without blocking on FIFOs or devices: the fd, or -errno
 * (-EINVAL with *kind = "a FIFO", "a directory", ... when the path is not a regular file). */
int open_regular(const char *path, struct stat *st, const char **kind);

/* ---- misc ---- */
const char *tracefs_path(bool mount_if_missing);
bool is_mounted(const char *path, long magic);
int ncpus_possible(void);
extern volatile int g_stop;
extern int g_stats_fd;

#endif

/* ---- subscriptions (map_watch, ringbuf, perfbuf, trace) ---- */
struct sub {
	int id;
	const char *kind;
	void (*release)(struct sub *s);
	void *data;
	struct sub *next;
};
int sub_add(struct sub *s); /* assigns and returns the id */
bool sub_exists_kind(const char *kind);

/* ---- map reading shared by map_dump and map_watch ---- */
struct map_rows {
	int fd;
	struct bpf_map_info info;
	bool percpu;
	size_t ksz, vsz;      /* bytes per key, per value (all CPUs for per-CPU maps) */
	char *keys, *vals;
	size_t n, cap;
	bool batch_ok;
};
/* The most one read keeps in memory (keys + values): map_dump pages end there (with a cursor), a
 * map_watch snapshot that needs more is refused with too_large. */
#define MAP_READ_BUDGET (128u << 20)
size_t map_budget_rows(const struct map_rows *r);
int map_open(uint32_t map_id, struct map_rows *r, char *err, size_t errlen);
/* Reads up to limit more rows after cursor (NULL: from the start), fewer when MAP_READ_BUDGET is
 * reached. Sets *done and the next cursor (malloc'd, NULL when done). Returns 0 or -errno (-E2BIG:
 * not even one hash bucket fits the budget). */
int map_read(struct map_rows *r, const char *cursor, size_t limit, char **next, bool *done);
void map_rows_free(struct map_rows *r);
void rows_entry_json(struct sbuf *s, struct map_rows *r, const struct btf *btf, size_t i, bool raw);
void rows_key_json(struct sbuf *s, struct map_rows *r, const struct btf *btf, const void *key);
void rows_value_json(struct sbuf *s, struct map_rows *r, const struct btf *btf, const char *value);
/* A coded error for a failed map operation (-errno e). */
void map_reply_error(json_t *id, int e, const char *msg, uint32_t map_id);
/* Batching: lines are queued and written once at the end (ring buffer bursts). */
void out_batch_begin(void);
void out_batch_end(void);
