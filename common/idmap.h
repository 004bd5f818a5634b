/* idmap: a CZMQ hash table keyed by 64-bit task ids.
 *
 * The coordinator and the SDK both look up tasks in flight by id. Keys are pointers to a
 * uint64_t inside the stored item (not copied), hashed with a 64-bit mixer; item
 * destructors are the caller's to set. */
#ifndef P2C2R_IDMAP_H
#define P2C2R_IDMAP_H

#include <czmq.h>

/* A new table, or NULL when out of memory. Insert with zhashx_insert(map, &item->id, item)
 * and look up with a pointer to any uint64_t of the same value. */
zhashx_t *p2c2r__idmap_new(void);

#endif /* P2C2R_IDMAP_H */
