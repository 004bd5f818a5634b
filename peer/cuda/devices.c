/* devices: see devices.h. */
#include "peer/cuda/devices.h"

#include <cuda_runtime_api.h>
#include <stdio.h>
#include <string.h>

int peer_cuda_devices(peer_device *out, int max, char *why, size_t why_size)
{
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        snprintf(why, why_size, "no CUDA driver or device (%s: %s)", cudaGetErrorName(err),
                 cudaGetErrorString(err));
        (void)cudaGetLastError(); /* the runtime keeps the error for the next call */
        return 0;
    }
    if (count <= 0) {
        snprintf(why, why_size, "no CUDA device");
        return 0;
    }
    int n = 0;
    for (int i = 0; i < count && n < max; i++) {
        struct cudaDeviceProp prop;
        if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {
            (void)cudaGetLastError();
            continue;
        }
        /* A thread that waits for its stream sleeps instead of spinning: the peer's cores
         * are busy with the JPEG codec meanwhile. Set before the device's context starts
         * (peer_cuda_device_refresh() below starts it). */
        if (cudaSetDevice(i) != cudaSuccess ||
            cudaSetDeviceFlags(cudaDeviceScheduleBlockingSync) != cudaSuccess)
            (void)cudaGetLastError();
        peer_device *d = &out[n++];
        memset(d, 0, sizeof *d);
        snprintf(d->name, sizeof d->name, "%s", prop.name);
        d->ordinal = i;
        d->memory_total = prop.totalGlobalMem;
        d->memory_free = prop.totalGlobalMem;
        d->compute_major = (uint32_t)prop.major;
        d->compute_minor = (uint32_t)prop.minor;
        d->multiprocessors = (uint32_t)prop.multiProcessorCount;
        peer_cuda_device_refresh(d);
    }
    if (!n)
        snprintf(why, why_size, "%d CUDA device(s), none readable", count);
    return n;
}

void peer_cuda_device_refresh(peer_device *d)
{
    size_t free_bytes = 0, total = 0;
    if (cudaSetDevice(d->ordinal) == cudaSuccess &&
        cudaMemGetInfo(&free_bytes, &total) == cudaSuccess)
        d->memory_free = free_bytes;
    else
        (void)cudaGetLastError();
}

void peer_cuda_versions(int *driver, int *runtime)
{
    *driver = 0;
    *runtime = 0;
    if (cudaDriverGetVersion(driver) != cudaSuccess)
        *driver = 0;
    if (cudaRuntimeGetVersion(runtime) != cudaSuccess)
        *runtime = 0;
    (void)cudaGetLastError();
}
