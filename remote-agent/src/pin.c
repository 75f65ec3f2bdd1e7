// SPDX-License-Identifier: Apache-2.0
/*
 * pin / unpin: the one way to make something outlive the agent. Nothing is pinned unless the
 * client asks; a pin stays after the agent exits (that is its point) until unpin or rm.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include "agent.h"

static bool under_bpffs(const char *path)
{
	/* the directory the pin goes into must be on bpffs */
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return false;
	*slash = 0;
	return is_mounted(dir, BPF_FS_MAGIC);
}

void do_pin(json_t *id, json_t *params)
{
	int64_t map_id = 0, prog_id = 0, link_id = 0;
	const char *path = NULL;
	if (!p_int(id, params, "map_id", false, 1, UINT32_MAX, &map_id) ||
	    !p_int(id, params, "prog_id", false, 1, UINT32_MAX, &prog_id) ||
	    !p_int(id, params, "link_id", false, 1, UINT32_MAX, &link_id) || !p_str(id, params, "path", true, &path))
		return;
	if (!!map_id + !!prog_id + !!link_id != 1) {
		reply_error(id, E_INVALID_PARAMS, NULL, "ids come from load and attach replies",
			    "give exactly one of map_id, prog_id or link_id");
		return;
	}
	/* bpffs: mount it on /sys/fs/bpf when missing, as bpftool does */
	if (!strncmp(path, "/sys/fs/bpf/", 12) && !is_mounted("/sys/fs/bpf", BPF_FS_MAGIC) &&
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL) == 0)
		emit_log("info", "mounted bpffs on /sys/fs/bpf (it was not mounted)");
	if (!under_bpffs(path)) {
		reply_error(id, E_INVALID_PARAMS, json_pack("{s:s}", "path", path),
			    "pin under a bpffs directory, e.g. /sys/fs/bpf/myprog", "%s is not in a bpffs directory", path);
		return;
	}
	int fd = map_id ? bpf_map_get_fd_by_id(map_id) : prog_id ? bpf_prog_get_fd_by_id(prog_id) : bpf_link_get_fd_by_id(link_id);
	if (fd < 0) {
		int e = errno;
		reply_error(id, e == ENOENT ? E_NOT_FOUND : E_PERMISSION_DENIED, NULL, NULL, "no %s with id %lld: %s",
			    map_id ? "map" : prog_id ? "program" : "link", (long long)(map_id ? map_id : prog_id ? prog_id : link_id),
			    strerror(e));
		return;
	}
	int err = bpf_obj_pin(fd, path) ? -errno : 0;
	close(fd);
	if (err) {
		reply_error(id, err == -EEXIST ? E_INVALID_PARAMS : E_IO_ERROR, json_pack("{s:s,s:i}", "path", path, "errno", -err),
			    err == -EEXIST ? "the path is taken: unpin it first" : NULL, "pinning at %s failed: %s", path, strerror(-err));
		return;
	}
	reply_result(id, json_pack("{s:s,s:b}", "path", path, "pinned", 1));
}

void do_unpin(json_t *id, json_t *params)
{
	const char *path = NULL;
	if (!p_str(id, params, "path", true, &path))
		return;
	if (!under_bpffs(path)) {
		reply_error(id, E_INVALID_PARAMS, json_pack("{s:s}", "path", path), "only pins on bpffs can be removed here",
			    "%s is not in a bpffs directory", path);
		return;
	}
	if (unlink(path)) {
		int e = errno;
		reply_error(id, e == ENOENT ? E_NOT_FOUND : E_IO_ERROR, json_pack("{s:s}", "path", path), NULL, "unpin %s: %s", path,
			    strerror(e));
		return;
	}
	reply_result(id, json_pack("{s:s,s:b}", "path", path, "unpinned", 1));
}
