/* kernels: the C side of kernels.h: logging a failed CUDA call, in C because common/log.h
 * is C only. */
#include "kernels.h"

#include "common/log.h"

int cuk_fail(const char *what, cudaError_t err)
{
    log_error("cuda: %s: %s (%s)", what, cudaGetErrorName(err), cudaGetErrorString(err));
    return err == cudaErrorMemoryAllocation ? P2C2R_E_NOMEM : P2C2R_E_INTERNAL;
}
