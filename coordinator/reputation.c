/* reputation: see reputation.h. Records live in a CZMQ hash keyed by the identity string
 * (the hash keeps its own copy of each key). */
#include "coordinator/reputation.h"

#include <czmq.h>
#include <stdlib.h>

#include "common/log.h"

struct coord_reputation {
    zhashx_t *records;    /* identity -> coord_rep_record*, owns both */
    uint64_t quarantines; /* identities quarantined */
};

static void record_free(void **item)
{
    free(*item);
    *item = NULL;
}

coord_reputation *coord_reputation_new(void)
{
    coord_reputation *rep = calloc(1, sizeof *rep);
    if (!rep)
        return NULL;
    rep->records = zhashx_new();
    if (!rep->records) {
        free(rep);
        return NULL;
    }
    zhashx_set_destructor(rep->records, record_free);
    return rep;
}

void coord_reputation_destroy(coord_reputation **rep)
{
    if (!rep || !*rep)
        return;
    zhashx_destroy(&(*rep)->records);
    free(*rep);
    *rep = NULL;
}

bool coord_reputation_record(coord_reputation *rep, const char *identity, bool agreed)
{
    coord_rep_record *r = zhashx_lookup(rep->records, identity);
    if (!r) {
        if (zhashx_size(rep->records) >= REPUTATION_MAX_RECORDS)
            return false;
        r = calloc(1, sizeof *r);
        if (!r || zhashx_insert(rep->records, identity, r) != 0) {
            free(r);
            log_limited(P2C2R_LOG_WARN, "reputation of %s not recorded: out of memory", identity);
            return false;
        }
    }
    if (agreed) {
        r->agreements++;
        r->score = r->score + REPUTATION_AGREE > REPUTATION_CAP ? REPUTATION_CAP
                                                                : r->score + REPUTATION_AGREE;
        return false;
    }
    r->disagreements++;
    r->score -= REPUTATION_DISAGREE;
    if (r->quarantined || r->score >= REPUTATION_FLOOR)
        return false;
    r->quarantined = true;
    rep->quarantines++;
    return true;
}

const coord_rep_record *coord_reputation_get(const coord_reputation *rep, const char *identity)
{
    return zhashx_lookup(rep->records, identity);
}

bool coord_reputation_quarantined(const coord_reputation *rep, const char *identity)
{
    const coord_rep_record *r = coord_reputation_get(rep, identity);
    return r && r->quarantined;
}

uint64_t coord_reputation_quarantines(const coord_reputation *rep)
{
    return rep->quarantines;
}
