// SPDX-License-Identifier: Apache-2.0
/*
 * map_watch: the map is read every interval and compared with the previous snapshot; the
 * first snapshot, and every change of a small map, is sent whole, larger maps as changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/timerfd.h>
#include <bpf/bpf.h>
#include "agent.h"

/* Small maps are sent whole on every change; larger ones as changes (entries + removed keys). */
#define WATCH_SMALL 256

struct watch {
	struct sub sub;
	struct watcher w;
	uint32_t map_id;
	struct map_rows prev;
	bool have_prev;
	struct map_rows first; /* read by map_watch itself (to refuse a map too large to watch) */
	bool have_first;
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

/* Reads the whole map into cur: 0, or -errno with err set (-E2BIG: more than MAP_READ_BUDGET). */
static int watch_read(uint32_t map_id, struct map_rows *cur, char *err, size_t errlen)
{
	int e = map_open(map_id, cur, err, errlen);
	if (e)
		return e;
	char *next = NULL;
	bool done = false;
	e = map_read(cur, NULL, 1u << 30, &next, &done);
	free(next);
	if (!e && !done) {
		e = -E2BIG;
		snprintf(err, errlen, "its entries (%zu bytes each) take more than the read budget, and map_watch reads the whole map every interval",
			 cur->ksz + cur->vsz);
	} else if (e) {
		snprintf(err, errlen, "%s", e == -E2BIG ? "one hash bucket of its entries is too large" : strerror(-e));
	}
	if (e)
		map_rows_free(cur);
	return e;
}

static void watch_tick(struct watcher *w, uint32_t events)
{
	struct watch *wa = w->data;
	uint64_t ticks;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0)
		return;
	struct map_rows cur;
	char err[256];
	if (wa->have_first) {
		cur = wa->first;
		wa->have_first = false;
	} else {
		int e = watch_read(wa->map_id, &cur, err, sizeof(err));
		if (e == -E2BIG) {
			/* the map grew past the budget: stop reading it every interval, say so once */
			struct itimerspec off = {};
			timerfd_settime(wa->w.fd, 0, &off, NULL);
			emit_log("error", "map_watch %d stopped: map %u grew too large to watch (%s, budget %u MiB); unsubscribe and read it with map_dump",
				 wa->sub.id, wa->map_id, err, MAP_READ_BUDGET >> 20);
			return;
		}
		if (e)
			return; /* the map is gone; the watch stays until unsubscribed */
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
	if (wa->have_first)
		map_rows_free(&wa->first);
	free(wa);
}

void do_map_watch(json_t *id, json_t *params)
{
	int64_t map_id, interval = 1000;
	if (!p_int(id, params, "map_id", true, 1, UINT32_MAX, &map_id) ||
	    !p_int(id, params, "interval_ms", false, 10, 3600000, &interval))
		return;
	/* the first snapshot is read here, so that a map too large to watch is refused (too_large) */
	struct map_rows r;
	char err[256];
	int e = watch_read(map_id, &r, err, sizeof(err));
	if (e) {
		map_reply_error(id, e, err, map_id);
		return;
	}
	close(r.fd);
	r.fd = -1;
	struct watch *wa = calloc(1, sizeof(*wa));
	wa->first = r;
	wa->have_first = true;
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
