/* SPDX-License-Identifier: Apache-2.0 */
/* Loading one program under the verifier: log buffers, retries, the time bound, verdicts. */
#ifndef BPF_AGENT_VERIFIER_H
#define BPF_AGENT_VERIFIER_H

#include "agent.h"

#define LOG_MIN 128u
#define LOG_MAX (256u << 20)
/* a rejected program's truncated log is fetched whole only up to this size */
#define LOG_MAX_REJECTED (64u << 20)

struct load_opts {
	int log_level;       /* as asked by the client */
	size_t log_size;     /* first buffer size */
	unsigned timeout_ms;
};

struct verdict {
	int err;             /* 0 or -errno */
	bool timeout;
	char *log;
	size_t log_size;     /* the buffer size that produced log */
	bool truncated;
	int retries;
	json_t *notes;
	char *libbpf_text;
	struct bpf_object *obj; /* on success */
	struct bpf_program *prog;
};

struct bpf_object *obj_open(struct handle *h, char *err, size_t errlen);
int sandbox_open(struct handle *h);
void load_one(struct handle *h, const char *name, const struct load_opts *o, struct verdict *v);
json_t *verifier_json(struct verdict *v, uint32_t verified_insns);
json_t *parse_stats(const char *log, uint32_t verified_insns);
void verdict_free(struct verdict *v);
const char *failure_code(struct verdict *v);
const char *failure_hint(struct verdict *v, const char *type);

#endif
