/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by lsm.bpf.c and the user-space program that reads its map. */
#ifndef LSM_H
#define LSM_H

/* Value of the `execs` map (key: the uid that called execve). */
struct exec_stats {
	unsigned long long allowed;
	unsigned long long denied;
};

#endif /* LSM_H */
