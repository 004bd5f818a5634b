/* idmap: see idmap.h. */
#include "common/idmap.h"

static size_t id_hash(const void *key)
{
    uint64_t x = *(const uint64_t *)key;
    x ^= x >> 33; /* murmur3's finaliser: sequential ids spread over all buckets */
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)x;
}

static int id_compare(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

zhashx_t *p2c2r__idmap_new(void)
{
    zhashx_t *map = zhashx_new();
    if (!map)
        return NULL;
    zhashx_set_key_hasher(map, id_hash);
    zhashx_set_key_comparator(map, id_compare);
    zhashx_set_key_duplicator(map, NULL);
    zhashx_set_key_destructor(map, NULL);
    return map;
}
