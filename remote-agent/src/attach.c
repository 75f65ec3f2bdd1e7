// SPDX-License-Identifier: GPL-2.0
/*
 * attach / detach. Programs attach by their SEC(): libbpf's auto-attach for tracing types,
 * and explicit targets for the rest (ifname for XDP and tc, binary:function for uprobes,
 * a cgroup path, a packet socket for socket filters). Every attachment is fd-based (bpf
 * links, perf events, tcx links, sockets), so it ends with the agent even on SIGKILL.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include "agent.h"

/* tcx attach types (kernel 6.6+), not in the 6.1 uapi headers this builds against */
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#define BPF_TCX_EGRESS 47
#endif

enum link_kind { LK_BPF_LINK, LK_TCX, LK_TC_NETLINK, LK_SOCKET, LK_PERF };

struct link_rec {
	int id;
	int handle_id;
	char *program;
	enum link_kind kind;
	struct bpf_link *link;
	int fd;                   /* tcx link fd or socket */
	struct bpf_tc_hook hook;  /* tc netlink fallback */
	struct bpf_tc_opts tc;
	bool hook_created;
	struct watcher w;         /* socket drain */
	uint64_t packets;
	struct bpf_link **plinks; /* perf_event: one link per CPU */
	int nplinks;
	struct link_rec *next;
};

static struct link_rec *links;
static int next_link = 1;

static void link_free(struct link_rec *l)
{
	/* cleanup: detach by the kind of attachment */
	switch (l->kind) {
	case LK_BPF_LINK:
		bpf_link__destroy(l->link);
		break;
	case LK_TCX:
		close(l->fd);
		break;
	case LK_TC_NETLINK:
		l->tc.flags = l->tc.prog_fd = l->tc.prog_id = 0;
		bpf_tc_detach(&l->hook, &l->tc);
		if (l->hook_created)
			bpf_tc_hook_destroy(&l->hook);
		break;
	case LK_SOCKET:
		loop_del(&l->w);
		close(l->fd);
		break;
	case LK_PERF:
		for (int i = 0; i < l->nplinks; i++)
			bpf_link__destroy(l->plinks[i]); /* closes the perf event too */
		free(l->plinks);
		break;
	}
	free(l->program);
	free(l);
}

int links_release_for_handle(int handle_id)
{
	int n = 0;
	for (struct link_rec **pp = &links; *pp;) {
		struct link_rec *l = *pp;
		if (l->handle_id == handle_id) {
			*pp = l->next;
			link_free(l);
			n++;
		} else {
			pp = &l->next;
		}
	}
	return n;
}

void links_release_all(void)
{
	while (links) {
		struct link_rec *l = links;
		links = l->next;
		link_free(l);
	}
}

static void socket_drain(struct watcher *w, uint32_t events)
{
	struct link_rec *l = w->data;
	char buf[2048];
	while (recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC) >= 0)
		l->packets++;
}

static uint32_t link_kernel_id(int fd)
{
	struct bpf_link_info info = {};
	uint32_t len = sizeof(info);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* Attaches one program; on failure replies and returns NULL. */
static struct link_rec *attach_one(json_t *id, struct handle *h, struct prog_rec *r, json_t *params, json_t **desc)
{
	const char *target = NULL, *ifname = NULL, *direction = NULL, *cgroup = NULL;
	int64_t pid = -1;
	if (!p_str(id, params, "target", false, &target) || !p_str(id, params, "ifname", false, &ifname) ||
	    !p_str(id, params, "direction", false, &direction) || !p_str(id, params, "cgroup", false, &cgroup) ||
	    !p_int(id, params, "pid", false, -1, INT32_MAX, &pid))
		return NULL;
	enum bpf_prog_type type = bpf_program__type(r->prog);
	const char *sec = r->section;
	struct link_rec *l = calloc(1, sizeof(*l));
	l->fd = -1;
	l->handle_id = h->id;
	l->program = strdup(r->name);
	*desc = json_object();
	int err = 0;
	const char *hint = NULL;
	char what[320] = "";

	if (type == BPF_PROG_TYPE_XDP || type == BPF_PROG_TYPE_SCHED_CLS || type == BPF_PROG_TYPE_SCHED_ACT ||
	    type == BPF_PROG_TYPE_SOCKET_FILTER) {
		const char *ifn = ifname ? ifname : target;
		int ifindex = ifn ? if_nametoindex(ifn) : 0;
		if (ifn && !ifindex) {
			reply_error(id, E_NOT_FOUND, json_pack("{s:s}", "ifname", ifn), "list interfaces with `ip link` on the agent's machine",
				    "no network interface '%s' in the agent's network namespace", ifn);
			goto fail;
		}
		if (!ifn && type != BPF_PROG_TYPE_SOCKET_FILTER) {
			reply_error(id, E_INVALID_PARAMS, NULL, "pass {\"target\": \"eth0\"} (or \"ifname\")",
				    "program '%s' (%s) needs a network interface to attach to", r->name, sec);
			goto fail;
		}
		if (ifn)
			json_object_set_new(*desc, "ifname", json_string(ifn));
		if (type == BPF_PROG_TYPE_XDP) {
			/* XDP: a bpf link on the interface */
			l->link = bpf_program__attach_xdp(r->prog, ifindex);
			err = l->link ? 0 : -errno;
			snprintf(what, sizeof(what), "XDP on %s", ifn);
			hint = "another XDP program may own the interface (ip link show)";
		} else if (type == BPF_PROG_TYPE_SOCKET_FILTER) {
			/* socket filter: a packet socket the agent owns and drains */
			l->kind = LK_SOCKET;
			l->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
			if (l->fd < 0) {
				err = -errno;
			} else {
				struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex};
				int pfd = r->fd;
				if ((ifindex && bind(l->fd, (struct sockaddr *)&sll, sizeof(sll))) ||
				    setsockopt(l->fd, SOL_SOCKET, SO_ATTACH_BPF, &pfd, sizeof(pfd)))
					err = -errno;
				l->w.fd = l->fd;
				l->w.cb = socket_drain;
				l->w.data = l;
				if (!err)
					loop_add(&l->w, EPOLLIN);
			}
			snprintf(what, sizeof(what), "socket filter on a packet socket (%s)", ifn ? ifn : "all interfaces");
		} else {
			/* tc: a tcx link when the kernel has it (fd-based), else a netlink filter */
			bool egress = (direction && !strcmp(direction, "egress")) || (!direction && strstr(sec, "egress"));
			json_object_set_new(*desc, "direction", json_string(egress ? "egress" : "ingress"));
			l->kind = LK_TCX;
			l->fd = bpf_link_create(r->fd, ifindex, egress ? BPF_TCX_EGRESS : BPF_TCX_INGRESS, NULL);
			if (l->fd < 0) {
				l->kind = LK_TC_NETLINK;
				l->hook.sz = sizeof(l->hook);
				l->hook.ifindex = ifindex;
				l->hook.attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
				l->tc.sz = sizeof(l->tc);
				l->tc.prog_fd = r->fd;
				int e = bpf_tc_hook_create(&l->hook);
				l->hook_created = e == 0;
				err = (e && e != -EEXIST) ? e : bpf_tc_attach(&l->hook, &l->tc);
				if (err && l->hook_created)
					bpf_tc_hook_destroy(&l->hook); /* leave the qdisc as we found it */
			}
			json_object_set_new(*desc, "mechanism", json_string(l->kind == LK_TCX ? "tcx" : "tc-netlink"));
			snprintf(what, sizeof(what), "tc %s on %s", egress ? "egress" : "ingress", ifn);
		}
	} else if (type == BPF_PROG_TYPE_PERF_EVENT) {
		/* perf_event: a sampling event on every CPU (or one process), one link each */
		static const struct {
			const char *name;
			uint32_t type;
			uint64_t config;
		} evs[] = {
			{"cpu-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK},
			{"task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
			{"page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
			{"context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
			{"cpu-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
			{"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
			{"cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
			{"branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES},
		};
		const char *evname = target ? target : "cpu-clock";
		int64_t freq = 49, period = 0;
		if (!p_int(id, params, "frequency", false, 1, 100000, &freq) ||
		    !p_int(id, params, "period", false, 1, INT64_MAX, &period))
			goto fail_quiet;
		size_t k;
		for (k = 0; k < ARRAY_SIZE(evs) && strcmp(evs[k].name, evname); k++)
			;
		if (k == ARRAY_SIZE(evs)) {
			reply_error(id, E_INVALID_PARAMS, NULL,
				    "events: cpu-clock task-clock page-faults context-switches cpu-cycles instructions cache-misses branch-misses",
				    "unknown perf event '%s'", evname);
			goto fail;
		}
		struct perf_event_attr attr = {.size = sizeof(attr), .type = evs[k].type, .config = evs[k].config};
		if (period) {
			attr.sample_period = period;
		} else {
			attr.freq = 1;
			attr.sample_freq = freq;
		}
		l->kind = LK_PERF;
		int n = pid >= 0 ? 1 : ncpus_possible();
		l->plinks = calloc(n, sizeof(*l->plinks));
		for (int cpu = 0; cpu < n && !err; cpu++) {
			int pfd = syscall(SYS_perf_event_open, &attr, pid >= 0 ? (int)pid : -1, pid >= 0 ? -1 : cpu, -1,
					  PERF_FLAG_FD_CLOEXEC);
			if (pfd < 0) {
				if (errno == ENODEV)
					continue; /* an offline CPU */
				err = -errno;
				break;
			}
			struct bpf_link *bl = bpf_program__attach_perf_event(r->prog, pfd);
			if (!bl) {
				err = -errno;
				close(pfd);
				break;
			}
			l->plinks[l->nplinks++] = bl;
		}
		if (err) {
			for (int i = 0; i < l->nplinks; i++)
				bpf_link__destroy(l->plinks[i]);
			free(l->plinks);
			l->plinks = NULL;
			l->nplinks = 0;
		}
		json_object_set_new(*desc, "event", json_string(evname));
		json_object_set_new(*desc, "perf_events", json_integer(l->nplinks));
		snprintf(what, sizeof(what), "perf event %s", evname);
		hint = evs[k].type == PERF_TYPE_HARDWARE ? "hardware events may be missing in a VM: try cpu-clock" : NULL;
	} else if (type == BPF_PROG_TYPE_KPROBE && (!strncmp(sec, "uprobe", 6) || !strncmp(sec, "uretprobe", 9)) &&
		   (target || pid >= 0)) {
		/* uprobe: binary:function from the target, else from SEC("uprobe/binary:function");
		 * a numeric target is a pid */
		char bin[256] = "", fn[128] = "";
		if (target && target[0] && strspn(target, "0123456789") == strlen(target)) {
			pid = strtol(target, NULL, 10);
			target = NULL;
		}
		if (!target && strchr(sec, '/'))
			target = strchr(sec, '/') + 1;
		const char *colon = target ? strrchr(target, ':') : NULL;
		if (!colon || colon == target || !colon[1]) {
			reply_error(id, E_INVALID_PARAMS, NULL, "example: {\"target\": \"/lib/x86_64-linux-gnu/libc.so.6:close\", \"pid\": 1234}",
				    "uprobe target must be \"binary:function\"");
			goto fail;
		}
		snprintf(bin, sizeof(bin), "%.*s", (int)(colon - target), target);
		snprintf(fn, sizeof(fn), "%s", colon + 1);
		/* libbpf opens the binary to find the function: a FIFO would block it, a device never end */
		struct stat st;
		const char *kind;
		int bfd = strchr(bin, '/') ? open_regular(bin, &st, &kind) : -ENOENT;
		if (bfd >= 0)
			close(bfd);
		else if (bfd == -EINVAL && kind) {
			reply_error(id, E_IO_ERROR, json_pack("{s:s}", "binary", bin), "give an ELF binary or shared library",
				    "uprobe binary %s is not a regular file (%s)", bin, kind);
			goto fail;
		}
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = fn, .retprobe = !strncmp(sec, "uretprobe", 9));
		l->link = bpf_program__attach_uprobe_opts(r->prog, pid, bin, 0, &uo);
		err = l->link ? 0 : -errno;
		json_object_set_new(*desc, "binary", json_string(bin));
		json_object_set_new(*desc, "function", json_string(fn));
		json_object_set_new(*desc, "pid", json_integer(pid));
		snprintf(what, sizeof(what), "uprobe on %s:%s", bin, fn);
		hint = "the binary must exist on the agent's machine and export the function";
	} else if (cgroup || (target && (type == BPF_PROG_TYPE_CGROUP_SKB || type == BPF_PROG_TYPE_CGROUP_SOCK ||
					  type == BPF_PROG_TYPE_CGROUP_SOCK_ADDR || type == BPF_PROG_TYPE_CGROUP_SOCKOPT ||
					  type == BPF_PROG_TYPE_CGROUP_SYSCTL || type == BPF_PROG_TYPE_CGROUP_DEVICE ||
					  type == BPF_PROG_TYPE_SOCK_OPS))) {
		/* cgroup: a bpf link on the cgroup directory */
		const char *path = cgroup ? cgroup : target;
		int cfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cfd < 0) {
			reply_error(id, E_NOT_FOUND, json_pack("{s:s}", "cgroup", path), "give a cgroup v2 directory, e.g. /sys/fs/cgroup",
				    "cannot open cgroup %s: %s", path, strerror(errno));
			goto fail;
		}
		l->link = bpf_program__attach_cgroup(r->prog, cfd);
		err = l->link ? 0 : -errno;
		close(cfd);
		json_object_set_new(*desc, "cgroup", json_string(path));
		snprintf(what, sizeof(what), "cgroup %s", path);
	} else {
		/* everything else: libbpf's auto-attach by SEC() */
		l->link = bpf_program__attach(r->prog);
		err = l->link ? 0 : -errno;
		snprintf(what, sizeof(what), "%s", sec);
		if (err == -EOPNOTSUPP || err == -ESRCH)
			hint = "this SEC() has no automatic attach target: pass \"target\"";
		else if (err == -ENOENT && type == BPF_PROG_TYPE_KPROBE)
			hint = "this kernel cannot attach kprobes (CONFIG_KPROBES off?); use a tracepoint or raw_tp";
	}
	if (err) {
		reply_error(id, err == -EPERM || err == -EACCES ? E_PERMISSION_DENIED : E_ATTACH_FAILED,
			    json_pack("{s:s,s:i,s:s}", "program", r->name, "errno", -err, "libbpf_log", libbpf_capture_text()), hint,
			    "attaching '%s' (%s) failed: %s", r->name, what, strerror(-err));
		goto fail;
	}
	return l;
fail:
fail_quiet:
	json_decref(*desc);
	*desc = NULL;
	l->kind = LK_BPF_LINK;
	l->link = NULL;
	if (l->fd >= 0)
		close(l->fd);
	free(l->program);
	free(l);
	return NULL;
}

static const char *kind_str(enum link_kind k)
{
	return k == LK_TCX ? "tcx" : k == LK_TC_NETLINK ? "tc" : k == LK_SOCKET ? "socket" : k == LK_PERF ? "perf_event" : "bpf_link";
}

void do_attach(json_t *id, json_t *params)
{
	int64_t hid;
	const char *prog = NULL;
	if (!p_int(id, params, "handle", true, 1, INT32_MAX, &hid) || !p_str(id, params, "program", false, &prog))
		return;
	struct handle *h = handle_find(hid);
	if (!h) {
		reply_error(id, E_NOT_FOUND, NULL, "handles come from load replies", "no loaded object with handle %lld", (long long)hid);
		return;
	}
	struct prog_rec *r = NULL;
	if (prog && !(r = prog_find(h, prog))) {
		reply_error(id, E_NOT_FOUND, NULL, NULL, "handle %lld has no loaded program '%s'", (long long)hid, prog);
		return;
	}
	/* one program, or every program of the handle */
	json_t *out = json_array();
	struct link_rec *made = NULL;
	for (int i = 0; i < h->nprogs; i++) {
		if (r && r != &h->progs[i])
			continue;
		json_t *desc;
		struct link_rec *l = attach_one(id, h, &h->progs[i], params, &desc);
		if (!l) {
			/* all or nothing: undo the ones made for this request */
			while (made) {
				struct link_rec *n = made->next;
				link_free(made);
				made = n;
			}
			json_decref(out);
			return;
		}
		l->id = next_link++;
		l->next = made;
		made = l;
		uint32_t kid = l->kind == LK_BPF_LINK ? link_kernel_id(bpf_link__fd(l->link)) : l->kind == LK_TCX ? link_kernel_id(l->fd) : 0;
		json_object_set_new(desc, "link", json_integer(l->id));
		json_object_set_new(desc, "program", json_string(l->program));
		json_object_set_new(desc, "kind", json_string(kind_str(l->kind)));
		json_object_set_new(desc, "link_id", kid ? json_integer(kid) : json_null());
		json_array_append_new(out, desc);
	}
	while (made) {
		struct link_rec *n = made->next;
		made->next = links;
		links = made;
		made = n;
	}
	reply_result(id, json_pack("{s:o}", "links", out));
}

void do_detach(json_t *id, json_t *params)
{
	int64_t lid;
	if (!p_int(id, params, "link", true, 1, INT32_MAX, &lid))
		return;
	for (struct link_rec **pp = &links; *pp; pp = &(*pp)->next) {
		if ((*pp)->id != lid)
			continue;
		struct link_rec *l = *pp;
		*pp = l->next;
		json_t *res = json_pack("{s:i,s:b}", "link", (int)lid, "detached", 1);
		if (l->kind == LK_SOCKET)
			json_object_set_new(res, "packets", json_integer(l->packets));
		link_free(l);
		reply_result(id, res);
		return;
	}
	reply_error(id, E_NOT_FOUND, NULL, "link ids come from attach replies", "no attachment with link %lld", (long long)lid);
}
