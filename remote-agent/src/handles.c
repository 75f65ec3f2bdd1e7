// SPDX-License-Identifier: Apache-2.0
/* The registry of loaded objects (handles): what the agent must release on exit. */
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "agent.h"

static struct handle *handles;
static int next_handle = 1;

struct handle *handle_find(int id)
{
	for (struct handle *h = handles; h; h = h->next)
		if (h->id == id)
			return h;
	return NULL;
}

struct handle *handle_next(struct handle *h) { return h ? h->next : handles; }

struct handle *handle_by_map_id(uint32_t map_id)
{
	for (struct handle *h = handles; h; h = h->next) {
		struct bpf_map *m;
		bpf_object__for_each_map(m, h->maps_obj)
		{
			struct bpf_map_info info = {};
			uint32_t len = sizeof(info);
			if (bpf_map__fd(m) >= 0 && !bpf_obj_get_info_by_fd(bpf_map__fd(m), &info, &len) && info.id == map_id)
				return h;
		}
	}
	return NULL;
}

struct prog_rec *prog_find(struct handle *h, const char *name)
{
	for (int i = 0; i < h->nprogs; i++)
		if (!strcmp(h->progs[i].name, name))
			return &h->progs[i];
	return NULL;
}

void handle_free(struct handle *h)
{
	/* cleanup: programs (their objects), then the maps' object */
	for (int i = 0; i < h->nprogs; i++) {
		bpf_object__close(h->progs[i].obj);
		free(h->progs[i].name);
		free(h->progs[i].section);
	}
	free(h->progs);
	bpf_object__close(h->maps_obj);
	free(h->elf);
	free(h);
}

void handles_release_all(void)
{
	while (handles) {
		struct handle *h = handles;
		handles = h->next;
		handle_free(h);
	}
}

int handle_register(struct handle *h)
{
	h->id = next_handle++;
	h->next = handles;
	handles = h;
	return h->id;
}

struct handle *handle_take(int id)
{
	struct handle **pp = &handles;
	while (*pp && (*pp)->id != id)
		pp = &(*pp)->next;
	struct handle *h = *pp;
	if (h)
		*pp = h->next;
	return h;
}
