/* device: what a peer knows of one compute device (a GPU), detected at start, in the
 * terms PeerInfo.devices reports. Plain C, no CUDA types: caps and the hello use it in
 * every build; peer/cuda/devices.h fills it where CUDA is built.
 */
#ifndef P2C2R_PEER_DEVICE_H
#define P2C2R_PEER_DEVICE_H

#include <stdint.h>

typedef struct peer_device {
    char name[256];           /* e.g. "NVIDIA H100 80GB HBM3" */
    int ordinal;              /* the device's index on this host */
    uint64_t memory_total;    /* bytes */
    uint64_t memory_free;     /* bytes, when last asked */
    uint32_t compute_major;   /* compute capability, e.g. 9 for 9.0 */
    uint32_t compute_minor;   /* and its minor number */
    uint32_t multiprocessors; /* streaming multiprocessors */
} peer_device;

#endif /* P2C2R_PEER_DEVICE_H */
