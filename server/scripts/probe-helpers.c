// SPDX-License-Identifier: Apache-2.0
/*
 * probe-helpers: which BPF helpers each program type may call on the running kernel, and which
 * helpers are GPL-only. Prints server/data/helper-availability.json's content on stdout.
 *
 * Build and run (root, or CAP_BPF + CAP_SYS_ADMIN + CAP_PERFMON):
 *   gcc -O2 -Wall -o /tmp/probe-helpers server/scripts/probe-helpers.c -lbpf -lelf -lz
 *   /tmp/probe-helpers > server/data/helper-availability.json
 * or simply: server/scripts/probe-helpers.sh
 *
 * Method. For every program type the kernel knows (enum bpf_prog_type from the kernel's own BTF)
 * and every helper id (enum bpf_func_id, ditto), load the 3-instruction program
 *     call #id; r0 = 0; exit
 * with BPF_PROG_LOAD and read the verifier's first complaint:
 *   "program of this type cannot use helper"  -> not allowed for this type
 *   "func ... not supported for program type" -> ditto (a per-helper check, e.g. bpf_get_func_ip)
 *   "invalid func"                            -> the kernel does not know the id
 *   "helper call might sleep"                 -> allowed only in sleepable programs
 *   "helper call is not allowed in probe"     -> refused by the helper's own check
 *   anything else (usually an argument type error such as "R1 type=scalar expected=...")
 *                                             -> allowed: the verifier got past the helper check
 * The helper check comes before argument checking in check_helper_call(), so no valid arguments
 * are needed. A helper allowed somewhere is then loaded once more, with license "Proprietary",
 * in a type that allows it: "cannot call GPL-restricted function" marks it GPL-only.
 * bpftool's `feature probe` is not used: on 6.x it misreads "cannot use helper" and lists every
 * helper for every type.
 *
 * Types that cannot load here (tracing, lsm, ext and struct_ops need a BTF attach target and a
 * trampoline; on the CI machines they fail with EPERM) are listed as unprobed. For tracing and lsm
 * a derived list is written and documented in "derived": see derive() below.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/bpf.h>
#include <bpf/btf.h>

#define MAX_TYPES 64
#define MAX_FUNCS 512
#define MAX_ATTACH 8
#define LOG_SIZE (64 * 1024)

enum verdict { V_DENIED, V_ALLOWED, V_UNKNOWN, V_SLEEP, V_PROBE_DENIED };

struct prog_type {
	char name[64];		/* lowercase, without BPF_PROG_TYPE_ */
	int id;
	int n_attach;
	int attach[MAX_ATTACH];	/* expected_attach_type values to probe (union of results) */
	char attach_name[MAX_ATTACH][64];
	__u32 flags;		/* prog_flags, e.g. BPF_F_SLEEPABLE for syscall */
	bool loads;
	char why[128];		/* why it does not load */
	unsigned char verdict[MAX_ATTACH][MAX_FUNCS];
};

static struct btf *vmlinux;
static char func_names[MAX_FUNCS][64];
static int max_func_id;
static struct prog_type types[MAX_TYPES];
static int n_types;
static char log_buf[LOG_SIZE];

/* Finds enum `enum_name` in the kernel BTF and calls `fn` for each enumerator. */
static int for_each_enum(const char *enum_name, void (*fn)(const char *, long long))
{
	int id = btf__find_by_name_kind(vmlinux, enum_name, BTF_KIND_ENUM);
	if (id < 0)
		return id;
	const struct btf_type *t = btf__type_by_id(vmlinux, id);
	const struct btf_enum *e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++)
		fn(btf__name_by_offset(vmlinux, e[i].name_off), e[i].val);
	return 0;
}

static long long lookup_value;
static const char *lookup_name;
static void match_name(const char *name, long long val)
{
	if (strcmp(name, lookup_name) == 0)
		lookup_value = val;
}

/* Value of enumerator `name` of enum bpf_attach_type, or -1 when this kernel lacks it. */
static int attach_type(const char *name)
{
	lookup_name = name;
	lookup_value = -1;
	for_each_enum("bpf_attach_type", match_name);
	return (int)lookup_value;
}

static void lower_copy(char *dst, size_t n, const char *src)
{
	size_t i;
	for (i = 0; i + 1 < n && src[i]; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = 0;
}

static void add_func(const char *name, long long val)
{
	if (strncmp(name, "BPF_FUNC_", 9) != 0 || val <= 0 || val >= MAX_FUNCS)
		return;
	snprintf(func_names[val], sizeof(func_names[val]), "bpf_%s", name + 9);
	if (val > max_func_id)
		max_func_id = (int)val;
}

static void add_type(const char *name, long long val)
{
	if (strncmp(name, "BPF_PROG_TYPE_", 14) != 0 || val <= 0 || n_types >= MAX_TYPES)
		return;
	struct prog_type *t = &types[n_types++];
	memset(t, 0, sizeof(*t));
	lower_copy(t->name, sizeof(t->name), name + 14);
	t->id = (int)val;
}

/* The expected attach types a type needs, or whose helper sets differ. 0 = none needed. */
static const struct {
	const char *type;
	const char *attach[MAX_ATTACH];
} attach_table[] = {
	{ "cgroup_skb", { "BPF_CGROUP_INET_INGRESS", "BPF_CGROUP_INET_EGRESS" } },
	{ "cgroup_sock", { "BPF_CGROUP_INET_SOCK_CREATE", "BPF_CGROUP_INET_SOCK_RELEASE",
			   "BPF_CGROUP_INET4_POST_BIND", "BPF_CGROUP_INET6_POST_BIND" } },
	{ "cgroup_sock_addr", { "BPF_CGROUP_INET4_BIND", "BPF_CGROUP_INET4_CONNECT",
				"BPF_CGROUP_UDP4_SENDMSG", "BPF_CGROUP_UDP4_RECVMSG",
				"BPF_CGROUP_INET4_GETPEERNAME", "BPF_CGROUP_INET4_GETSOCKNAME",
				"BPF_CGROUP_UNIX_CONNECT" } },
	{ "cgroup_sockopt", { "BPF_CGROUP_GETSOCKOPT", "BPF_CGROUP_SETSOCKOPT" } },
	{ "sk_reuseport", { "BPF_SK_REUSEPORT_SELECT", "BPF_SK_REUSEPORT_SELECT_OR_MIGRATE" } },
	{ "sk_lookup", { "BPF_SK_LOOKUP" } },
	{ "netfilter", { "BPF_NETFILTER" } },
	{ "sock_ops", { "BPF_CGROUP_SOCK_OPS" } },
	{ "cgroup_device", { "BPF_CGROUP_DEVICE" } },
	{ "cgroup_sysctl", { "BPF_CGROUP_SYSCTL" } },
	{ "flow_dissector", { "BPF_FLOW_DISSECTOR" } },
	{ "sk_msg", { "BPF_SK_MSG_VERDICT" } },
	{ "xdp", { "BPF_XDP" } },
};

static void setup_attach(struct prog_type *t)
{
	for (size_t i = 0; i < sizeof(attach_table) / sizeof(attach_table[0]); i++) {
		if (strcmp(attach_table[i].type, t->name) != 0)
			continue;
		for (int j = 0; j < MAX_ATTACH && attach_table[i].attach[j]; j++) {
			int v = attach_type(attach_table[i].attach[j]);
			if (v < 0)
				continue;
			t->attach[t->n_attach] = v;
			lower_copy(t->attach_name[t->n_attach], 64, attach_table[i].attach[j] + 4);
			t->n_attach++;
		}
	}
	if (t->n_attach == 0) {
		t->attach[0] = 0;
		t->attach_name[0][0] = 0;
		t->n_attach = 1;
	}
	/* libbpf loads SEC("syscall") programs as sleepable. */
	if (strcmp(t->name, "syscall") == 0)
		t->flags = 1U << 4; /* BPF_F_SLEEPABLE */
}

/* Loads `insns`; returns the fd (closed by the caller) or -errno, the verifier log in log_buf. */
static int load(const struct prog_type *t, int attach, const struct bpf_insn *insns, int n,
		const char *license)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = t->id;
	attr.expected_attach_type = attach;
	attr.insns = (__u64)(unsigned long)insns;
	attr.insn_cnt = n;
	attr.license = (__u64)(unsigned long)license;
	attr.log_buf = (__u64)(unsigned long)log_buf;
	attr.log_size = LOG_SIZE;
	attr.log_level = 1;
	attr.prog_flags = t->flags;
	log_buf[0] = 0;
	int fd = (int)syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

static int load_call(const struct prog_type *t, int attach, int func_id, const char *license)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_JMP | BPF_CALL, .imm = func_id },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	return load(t, attach, insns, 3, license);
}

static enum verdict classify(int ret)
{
	/* PROBE_DEBUG=1 prints each refusal, to check that no new message is misread as "allowed". */
	if (ret < 0 && getenv("PROBE_DEBUG")) {
		char one[512];
		snprintf(one, sizeof(one), "%.500s", log_buf);
		for (char *p = one; *p; p++)
			if (*p == '\n')
				*p = '|';
		fprintf(stderr, "%s\n", one);
	}
	if (ret >= 0) {
		close(ret);
		return V_ALLOWED;
	}
	if (strstr(log_buf, "cannot use helper") || strstr(log_buf, "not supported for program type"))
		return V_DENIED;
	if (strstr(log_buf, "invalid func"))
		return V_UNKNOWN;
	if (strstr(log_buf, "might sleep"))
		return V_SLEEP;
	if (strstr(log_buf, "not allowed in probe"))
		return V_PROBE_DENIED;
	if (strstr(log_buf, "GPL-restricted"))
		return V_ALLOWED; /* only with a non-GPL license; we load as GPL */
	return V_ALLOWED;
}

static void probe_type(struct prog_type *t)
{
	struct bpf_insn ret0[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = load(t, t->attach[0], ret0, 2, "GPL");
	if (fd < 0) {
		snprintf(t->why, sizeof(t->why), "%s%s%.60s", strerror(-fd), log_buf[0] ? ": " : "",
			 log_buf);
		for (char *p = t->why; *p; p++)
			if (*p == '\n' || *p == '"' || *p == '\\')
				*p = ' ';
		return;
	}
	close(fd);
	t->loads = true;
	for (int a = 0; a < t->n_attach; a++)
		for (int id = 1; id <= max_func_id + 2 && id < MAX_FUNCS; id++)
			t->verdict[a][id] = (unsigned char)classify(load_call(t, t->attach[a], id, "GPL"));
}

static bool allowed_any(const struct prog_type *t, int id)
{
	for (int a = 0; a < t->n_attach; a++)
		if (t->verdict[a][id] == V_ALLOWED)
			return true;
	return false;
}

static struct prog_type *type_named(const char *name)
{
	for (int i = 0; i < n_types; i++)
		if (strcmp(types[i].name, name) == 0)
			return &types[i];
	return NULL;
}

static void print_name_list(bool *set)
{
	bool first = true;
	printf("[");
	for (int id = 1; id <= max_func_id; id++) {
		if (!set[id])
			continue;
		printf("%s\"%s\"", first ? "" : ", ", func_names[id]);
		first = false;
	}
	printf("]");
}

/*
 * Helpers that only BTF-typed tracing programs get (tracing_prog_func_proto and
 * bpf_lsm_func_proto in the kernel), on top of what kprobe and raw_tracepoint programs get.
 */
static const char *tracing_extra[] = {
	"bpf_skb_output", "bpf_xdp_output", "bpf_skc_to_tcp6_sock", "bpf_skc_to_tcp_sock",
	"bpf_skc_to_tcp_timewait_sock", "bpf_skc_to_tcp_request_sock", "bpf_skc_to_udp6_sock",
	"bpf_skc_to_unix_sock", "bpf_skc_to_mptcp_sock", "bpf_sk_storage_get", "bpf_sk_storage_delete",
	"bpf_sock_from_file", "bpf_get_socket_cookie", "bpf_seq_printf", "bpf_seq_write",
	"bpf_seq_printf_btf", "bpf_d_path", "bpf_get_func_arg", "bpf_get_func_ret",
	"bpf_get_func_arg_cnt", "bpf_get_func_ip", "bpf_get_attach_cookie", NULL,
};
static const char *lsm_extra[] = {
	"bpf_inode_storage_get", "bpf_inode_storage_delete", "bpf_bprm_opts_set",
	"bpf_ima_inode_hash", "bpf_ima_file_hash", "bpf_get_retval", "bpf_set_retval",
	"bpf_get_local_storage", NULL,
};
/* kprobe-only: error injection, not available to tracing programs. */
static const char *tracing_minus[] = { "bpf_override_return", NULL };

static void mark(bool *set, const char **names, bool value)
{
	for (; *names; names++)
		for (int id = 1; id <= max_func_id; id++)
			if (strcmp(func_names[id], *names) == 0)
				set[id] = value;
}

/* Fills `set` for an unprobed type; returns false when nothing sensible can be derived. */
static bool derive(const char *type, bool *set)
{
	struct prog_type *kp = type_named("kprobe"), *rtp = type_named("raw_tracepoint");
	if (!kp || !rtp || !kp->loads || !rtp->loads)
		return false;
	if (strcmp(type, "tracing") != 0 && strcmp(type, "lsm") != 0)
		return false;
	for (int id = 1; id <= max_func_id; id++)
		set[id] = allowed_any(kp, id) || allowed_any(rtp, id);
	mark(set, tracing_extra, true);
	mark(set, tracing_minus, false);
	if (strcmp(type, "lsm") == 0)
		mark(set, lsm_extra, true);
	return true;
}

int main(void)
{
	struct utsname uts;
	static bool set[MAX_FUNCS], gpl[MAX_FUNCS];

	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		fprintf(stderr, "probe-helpers: cannot read the kernel BTF (/sys/kernel/btf/vmlinux): %s\n",
			strerror(errno));
		return 1;
	}
	if (for_each_enum("bpf_func_id", add_func) || for_each_enum("bpf_prog_type", add_type)) {
		fprintf(stderr, "probe-helpers: enum bpf_func_id/bpf_prog_type missing from the kernel BTF\n");
		return 1;
	}
	uname(&uts);

	for (int i = 0; i < n_types; i++) {
		setup_attach(&types[i]);
		probe_type(&types[i]);
		fprintf(stderr, "probe-helpers: %-24s %s\n", types[i].name,
			types[i].loads ? "probed" : types[i].why);
	}

	/* GPL-only: one non-GPL load per helper, in the first type that allows it. */
	for (int id = 1; id <= max_func_id; id++) {
		for (int i = 0; i < n_types; i++) {
			struct prog_type *t = &types[i];
			int a;
			if (!t->loads)
				continue;
			for (a = 0; a < t->n_attach && t->verdict[a][id] != V_ALLOWED; a++)
				;
			if (a == t->n_attach)
				continue;
			int fd = load_call(t, t->attach[a], id, "Proprietary");
			if (fd >= 0)
				close(fd);
			gpl[id] = fd < 0 && strstr(log_buf, "GPL-restricted") != NULL;
			break;
		}
	}

	printf("{\n \"kernel\": \"%s\",\n", uts.release);
	printf(" \"probedWith\": \"server/scripts/probe-helpers.c: BPF_PROG_LOAD of 'call #id; r0 = 0; exit' "
	       "per program type and helper id, classified by the verifier message; GPL-only by a "
	       "second load with license Proprietary\",\n");
	printf(" \"programTypes\": {\n");
	bool first = true;
	for (int i = 0; i < n_types; i++) {
		struct prog_type *t = &types[i];
		memset(set, 0, sizeof(set));
		if (t->loads) {
			for (int id = 1; id <= max_func_id; id++)
				set[id] = allowed_any(t, id);
		} else if (!derive(t->name, set)) {
			continue;
		}
		printf("%s  \"%s\": ", first ? "" : ",\n", t->name);
		print_name_list(set);
		first = false;
	}
	printf("\n },\n");

	/* Helpers allowed for some attach types of a type only (e.g. bpf_bind: connect4/6). */
	printf(" \"attachTypeOnly\": {");
	first = true;
	for (int i = 0; i < n_types; i++) {
		struct prog_type *t = &types[i];
		if (!t->loads || t->n_attach < 2)
			continue;
		for (int id = 1; id <= max_func_id; id++) {
			int n = 0;
			for (int a = 0; a < t->n_attach; a++)
				n += t->verdict[a][id] == V_ALLOWED;
			if (n == 0 || n == t->n_attach)
				continue;
			printf("%s\n  \"%s/%s\": [", first ? "" : ",", t->name, func_names[id]);
			bool f2 = true;
			for (int a = 0; a < t->n_attach; a++) {
				if (t->verdict[a][id] != V_ALLOWED)
					continue;
				printf("%s\"%s\"", f2 ? "" : ", ", t->attach_name[a]);
				f2 = false;
			}
			printf("]");
			first = false;
		}
	}
	printf("\n },\n");

	/* Helpers the type knows but refuses unless the program is sleepable. */
	printf(" \"sleepableOnly\": {");
	first = true;
	for (int i = 0; i < n_types; i++) {
		struct prog_type *t = &types[i];
		bool any = false;
		memset(set, 0, sizeof(set));
		for (int id = 1; t->loads && id <= max_func_id; id++)
			for (int a = 0; a < t->n_attach; a++)
				if (t->verdict[a][id] == V_SLEEP)
					any = set[id] = true;
		if (!any)
			continue;
		printf("%s\n  \"%s\": ", first ? "" : ",", t->name);
		print_name_list(set);
		first = false;
	}
	printf("\n },\n");

	printf(" \"gplOnly\": ");
	print_name_list(gpl);
	/* Helpers no probed type allows (tracing/lsm/iter-only ones): their GPL status is unknown. */
	memset(set, 0, sizeof(set));
	for (int id = 1; id <= max_func_id; id++) {
		set[id] = func_names[id][0] != 0;
		for (int i = 0; i < n_types && set[id]; i++)
			for (int a = 0; types[i].loads && a < types[i].n_attach; a++)
				if (types[i].verdict[a][id] == V_ALLOWED)
					set[id] = false;
	}
	printf(",\n \"gplUnknown\": ");
	print_name_list(set);
	printf(",\n \"unprobed\": [");
	first = true;
	for (int i = 0; i < n_types; i++) {
		if (types[i].loads)
			continue;
		printf("%s\"%s\"", first ? "" : ", ", types[i].name);
		first = false;
	}
	printf("],\n \"unprobedReasons\": {");
	first = true;
	for (int i = 0; i < n_types; i++) {
		if (types[i].loads)
			continue;
		printf("%s\n  \"%s\": \"%s\"", first ? "" : ",", types[i].name, types[i].why);
		first = false;
	}
	printf("\n },\n \"derived\": {");
	first = true;
	for (int i = 0; i < n_types; i++) {
		if (types[i].loads || !derive(types[i].name, set))
			continue;
		printf("%s\n  \"%s\": {\"from\": [\"kprobe\", \"raw_tracepoint\"], \"note\": \"not loadable "
		       "here; the union of the kprobe and raw_tracepoint sets, minus bpf_override_return, plus "
		       "the BTF-tracing helpers of tracing_prog_func_proto%s (curated from the kernel "
		       "source)\"}",
		       first ? "" : ",", types[i].name,
		       strcmp(types[i].name, "lsm") == 0 ? " and bpf_lsm_func_proto" : "");
		first = false;
	}
	printf("\n }\n}\n");
	btf__free(vmlinux);
	return 0;
}
