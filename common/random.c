/* random: see random.h. */
#include "common/random.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

uint64_t p2c2r__random_id(void)
{
    uint64_t id = 0;
    while (id == 0) {
        if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id) {
            /* getrandom() fails only before the pool is ready at boot, or on kernels older
             * than 3.17: mix what differs between processes instead. */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            id = ((uint64_t)ts.tv_nsec << 32) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 16);
            id *= 0x9e3779b97f4a7c15ull;
        }
    }
    return id;
}
