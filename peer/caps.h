/* caps: what this peer can do, detected rather than configured, as the coordinator's
 * PeerInfo carries it (its matching and scoring filter on these).
 *
 * Detected: online CPU cores, the SIMD level of the CPU kernels, host memory (total and
 * available, from /proc/meminfo), and the runtime with its GPUs (runtime.h). Chosen
 * by the operator: which task kinds to run (all by default; `--kinds` narrows them). The
 * upscale modes follow from the kinds: a CPU peer that runs upscale runs every mode.
 */
#ifndef P2C2R_PEER_CAPS_H
#define P2C2R_PEER_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/envelope.h"
#include "peer/kind.h"
#include "peer/resources.h"
#include "peer/runtime.h"

#define PEER_CAPS_MAX_KINDS 8

typedef struct peer_caps {
    bool runs[PEER_CAPS_MAX_KINDS]; /* per entry of peer_kinds: whether this peer runs it */
    uint32_t cpu_cores;             /* online cores */
    uint64_t memory_total;          /* host memory, bytes */
    const char *simd;               /* "avx2" or "scalar" */
    peer_runtime *runtime;          /* what frames run on (NULL: the CPU, nothing said) */
} peer_caps;

/* Room for the devices of a PeerInfo. */
typedef struct peer_caps_devices {
    P2c2r__Wire__Device dev[PEER_MAX_EXECUTORS];  /* one per device */
    P2c2r__Wire__Device *ptr[PEER_MAX_EXECUTORS]; /* pointers to them */
} peer_caps_devices;

/* Detect what can be; runs only the kinds named in kinds (comma-separated, NULL: all).
 * P2C2R_E_INVAL (with the unknown name in *bad) when kinds names a kind this peer does not
 * have or none at all. */
int peer_caps_detect(peer_caps *caps, const char *kinds, const char *simd, const char **bad);

/* Host memory available now, in bytes (MemAvailable), or 0 when unknown. */
uint64_t peer_caps_memory_free(void);

/* Fill the capability fields of info (kinds, modes, cores, runtime, SIMD, memory) from
 * caps; kinds and modes point into the arrays given, of PEER_CAPS_MAX_KINDS and 4 entries. */
void peer_caps_fill(const peer_caps *caps, P2c2r__Wire__PeerInfo *info, char **kinds,
                    P2c2r__Wire__UpscaleMode *modes);

/* Fill info's devices (into room) from caps->runtime: each with its free memory read again,
 * the slots of the `slots` that run on it, and the bytes of its resident tables (res). */
void peer_caps_fill_devices(const peer_caps *caps, const peer_resources *res, uint32_t slots,
                            P2c2r__Wire__PeerInfo *info, peer_caps_devices *room);

#endif /* P2C2R_PEER_CAPS_H */
