/* resources: see resources.h. */
#include "peer/resources.h"

#include <string.h>

int peer_resources_init(peer_resources *r, uint32_t threads)
{
    memset(r, 0, sizeof *r);
    if (threads < 1 || threads > 256)
        return P2C2R_E_INVAL;
    r->threads = threads;
    r->simd = p2c2r__upscale_simd();
    r->pool = p2c2r__pool_new(threads);
    r->tables = p2c2r__upscale_cache_new(PEER_TABLE_CACHE_BYTES);
    r->executors[0] = (peer_executor){.ops = &peer_executor_cpu, .ordinal = -1};
    r->nexecutors = 1;
    if (!r->pool || !r->tables) {
        peer_resources_fini(r);
        return P2C2R_E_NOMEM;
    }
    return P2C2R_OK;
}

void peer_resources_fini(peer_resources *r)
{
    for (uint32_t i = 0; i < r->nexecutors; i++)
        if (r->executors[i].ops->fini)
            r->executors[i].ops->fini(&r->executors[i]);
    r->nexecutors = 0;
    p2c2r__pool_destroy(&r->pool);
    p2c2r__upscale_cache_destroy(&r->tables);
}

peer_executor *peer_resources_executor(const peer_resources *r, uint32_t s)
{
    return (peer_executor *)&r->executors[s % r->nexecutors];
}

size_t peer_resources_resident(const peer_resources *r, char (*names)[P2C2R_UPSCALE_NAME_MAX],
                               size_t max)
{
    if (!r->nexecutors || !r->executors[0].ops->resident)
        return r->tables ? p2c2r__upscale_cache_list(r->tables, names, max) : 0;
    /* Each device's tables, a name held by several devices listed once. */
    size_t n = 0, held = 0;
    char mine[max ? max : 1][P2C2R_UPSCALE_NAME_MAX];
    for (uint32_t i = 0; i < r->nexecutors; i++) {
        peer_executor *ex = peer_resources_executor(r, i);
        size_t bytes;
        size_t got = ex->ops->resident(ex, mine, max, &bytes);
        held += got;
        for (size_t k = 0; k < got && k < max; k++) {
            size_t j = 0;
            while (j < n && strcmp(names[j], mine[k]) != 0)
                j++;
            if (j == n && n < max)
                memcpy(names[n++], mine[k], sizeof mine[k]);
            else if (j < n)
                held--;
        }
    }
    return held > n ? held : n;
}
