/* runtime: what a peer computes on, chosen once at start: its CPU (the thread pool), or
 * its CUDA devices, one executor each (executor.h) with the slots spread across them.
 *
 * `auto` takes every CUDA device there is and falls back to the CPU when there is none
 * (no driver, no device, or a build without CUDA), saying why in the log and in the hello
 * (PeerInfo.runtime_detail); `cuda` without a device is an error at start, so an operator
 * who asked for a GPU never gets a CPU peer by surprise; `cpu` never looks for a GPU.
 */
#ifndef P2C2R_PEER_RUNTIME_H
#define P2C2R_PEER_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "peer/device.h"
#include "peer/resources.h"

typedef struct peer_runtime {
    const char *name;                        /* "cpu" or "cuda" */
    char detail[320];                        /* why this runtime */
    peer_device devices[PEER_MAX_EXECUTORS]; /* the devices run on (none for the CPU) */
    uint32_t ndevices;                       /* entries in devices */
    int cuda_driver;                         /* CUDA driver version, 0: none */
    int cuda_runtime;                        /* CUDA runtime built with, 0: none */
} peer_runtime;

/* Whether this build has the CUDA executor. */
int peer_runtime_has_cuda(void);

/* Choose the runtime `want` ("auto", "cpu" or "cuda") asks for, on device `device` only
 * (-1: all), and install its executors in res (whose pool and tables are up; no worker
 * may have started). P2C2R_E_INVAL for another word or a device index this host does not
 * have, P2C2R_E_UNSUPPORTED when `cuda` finds no device, P2C2R_E_NOMEM, P2C2R_E_INTERNAL
 * for a device that fails to start (with `auto`: the CPU, and rt->detail says why). On
 * error res runs the CPU. */
int peer_runtime_open(peer_runtime *rt, peer_resources *res, const char *want, int device);

/* Read the devices' free memory again (for the next hello). */
void peer_runtime_refresh(peer_runtime *rt);

#endif /* P2C2R_PEER_RUNTIME_H */
