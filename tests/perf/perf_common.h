/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BRAID_PERF_COMMON_H
#define BRAID_PERF_COMMON_H

/**
 * Start EAL and braid's engine (mbuf metadata, clock) for a perf program.
 *
 * EAL arguments first, then "--", then the program's own (l2fwd, l3fwd).
 * Without EAL arguments (none at all, or "--" first): defaults that run
 * anywhere, next to other DPDK processes: -l 0 --no-huge -m 512
 * --no-shconf --no-pci, EAL and braid logs at warning.
 *
 * @param argc, argv the program's; on success they are moved past EAL's
 *   arguments and the "--": (*argv)[0] is the program name and the rest
 *   its own arguments (getopt's order).
 * @return 0, or -1 after printing why on stderr.
 */
int perf_eal_init(int *argc, char ***argv);

#endif /* BRAID_PERF_COMMON_H */
