/* kinds: the table of task kinds this peer runs (kind.h). */
#include <string.h>

#include "peer/kind.h"

const peer_kind_ops *const peer_kinds[] = {
    &peer_kind_upscale,
    &peer_kind_noop,
    &peer_kind_sleep,
};
const size_t peer_kinds_count = sizeof peer_kinds / sizeof peer_kinds[0];

int peer_kind_index(const char *name)
{
    for (size_t i = 0; i < peer_kinds_count; i++)
        if (strcmp(peer_kinds[i]->name, name) == 0)
            return (int)i;
    return -1;
}
