/* runtime: see runtime.h. The one place that knows whether this build has CUDA. */
#include "peer/runtime.h"

#include <stdio.h>
#include <string.h>

#ifdef P2C2R_HAVE_CUDA
#include "peer/cuda/devices.h"
#include "peer/cuda/executor.h"
#endif

int peer_runtime_has_cuda(void)
{
#ifdef P2C2R_HAVE_CUDA
    return 1;
#else
    return 0;
#endif
}

/* The CUDA devices to run on into rt (none: rt->detail says why). */
static int find_devices(peer_runtime *rt, int device)
{
#ifdef P2C2R_HAVE_CUDA
    peer_cuda_versions(&rt->cuda_driver, &rt->cuda_runtime);
    peer_device all[PEER_MAX_EXECUTORS];
    int n = peer_cuda_devices(all, PEER_MAX_EXECUTORS, rt->detail, sizeof rt->detail);
    if (n <= 0)
        return P2C2R_OK;
    for (int i = 0; i < n; i++)
        if (device < 0 || all[i].ordinal == device)
            rt->devices[rt->ndevices++] = all[i];
    if (!rt->ndevices) {
        snprintf(rt->detail, sizeof rt->detail, "--device %d: this host has CUDA devices 0..%d",
                 device, all[n - 1].ordinal);
        return P2C2R_E_INVAL;
    }
    return P2C2R_OK;
#else
    (void)device;
    snprintf(rt->detail, sizeof rt->detail, "this peer was built without CUDA");
    return P2C2R_OK;
#endif
}

/* One executor per device in rt. */
static int open_executors(peer_runtime *rt, peer_resources *res)
{
#ifdef P2C2R_HAVE_CUDA
    for (uint32_t i = 0; i < rt->ndevices; i++) {
        char why[256] = "";
        int rc = peer_cuda_executor_open(&res->executors[i], &rt->devices[i], res, why, sizeof why);
        if (rc != P2C2R_OK) {
            snprintf(rt->detail, sizeof rt->detail, "CUDA device %d (%.120s): %.120s",
                     rt->devices[i].ordinal, rt->devices[i].name, why);
            for (uint32_t k = 0; k < i; k++)
                res->executors[k].ops->fini(&res->executors[k]);
            res->executors[0] = (peer_executor){.ops = &peer_executor_cpu, .ordinal = -1};
            return rc;
        }
        res->nexecutors = i + 1;
    }
    snprintf(rt->detail, sizeof rt->detail, "%u CUDA device(s)", rt->ndevices);
    return P2C2R_OK;
#else
    (void)rt;
    (void)res;
    return P2C2R_E_UNSUPPORTED;
#endif
}

int peer_runtime_open(peer_runtime *rt, peer_resources *res, const char *want, int device)
{
    memset(rt, 0, sizeof *rt);
    rt->name = "cpu";
    int cuda = strcmp(want, "cuda") == 0, cpu = strcmp(want, "cpu") == 0;
    if (!cuda && !cpu && strcmp(want, "auto") != 0) {
        snprintf(rt->detail, sizeof rt->detail, "--runtime %s: say auto, cpu or cuda", want);
        return P2C2R_E_INVAL;
    }
    if (cpu) {
        snprintf(rt->detail, sizeof rt->detail, "--runtime cpu");
        return P2C2R_OK;
    }
    int rc = find_devices(rt, device);
    if (rc != P2C2R_OK)
        return rc;
    if (!rt->ndevices) {
        if (cuda)
            return P2C2R_E_UNSUPPORTED;
        return P2C2R_OK; /* auto: the CPU, rt->detail says why */
    }
    rc = open_executors(rt, res);
    if (rc != P2C2R_OK) {
        rt->ndevices = 0;
        return cuda ? rc : P2C2R_OK; /* auto: the CPU, rt->detail says why */
    }
    rt->name = "cuda";
    return P2C2R_OK;
}

void peer_runtime_refresh(peer_runtime *rt)
{
#ifdef P2C2R_HAVE_CUDA
    for (uint32_t i = 0; i < rt->ndevices; i++)
        peer_cuda_device_refresh(&rt->devices[i]);
#else
    (void)rt;
#endif
}
