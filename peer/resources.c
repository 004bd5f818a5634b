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
    if (!r->pool || !r->tables) {
        peer_resources_fini(r);
        return P2C2R_E_NOMEM;
    }
    return P2C2R_OK;
}

void peer_resources_fini(peer_resources *r)
{
    p2c2r__pool_destroy(&r->pool);
    p2c2r__upscale_cache_destroy(&r->tables);
}

size_t peer_resources_resident(const peer_resources *r, char (*names)[P2C2R_UPSCALE_NAME_MAX],
                               size_t max)
{
    return r->tables ? p2c2r__upscale_cache_list(r->tables, names, max) : 0;
}
