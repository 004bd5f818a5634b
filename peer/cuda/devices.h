/* devices: the CUDA devices of this host, through the CUDA runtime API.
 *
 * Without a driver or a device (a CPU machine, a container without the GPU passed in)
 * cudaGetDeviceCount() fails; that is an answer, not an error of the peer: it runs on its
 * CPU and says why, with the CUDA error's own words.
 */
#ifndef P2C2R_PEER_CUDA_DEVICES_H
#define P2C2R_PEER_CUDA_DEVICES_H

#include <stddef.h>

#include "peer/device.h"

/* Detect up to max devices into out[0..max); returns how many (0 when there are none,
 * with why filled: "no CUDA driver or device (cudaErrorNoDevice: ...)"). */
int peer_cuda_devices(peer_device *out, int max, char *why, size_t why_size);

/* Free memory of a device now, into d->memory_free (unchanged when the runtime cannot
 * say). Sets the calling thread's current device. */
void peer_cuda_device_refresh(peer_device *d);

/* The CUDA driver's version (e.g. 13000 for 13.0; 0 with no driver) and that of the
 * runtime this peer was built with. */
void peer_cuda_versions(int *driver, int *runtime);

#endif /* P2C2R_PEER_CUDA_DEVICES_H */
