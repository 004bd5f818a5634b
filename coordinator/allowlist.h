/* allowlist: the public keys the coordinator lets in, one list per role, and what a
 * client's key may do.
 *
 * A text file, one key per line. Blank lines are ignored, and so is a comment: a '#'
 * followed by a blank or the end of the line, at the start of a line or after a blank
 * (Z85 keys may hold '#', never a blank):
 *
 *     # peers file (--allow-peers): a key per line, nothing else
 *     rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7
 *
 *     # clients file (--allow-clients): a key, then its limits, each optional
 *     Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID priority=5 queued-bytes=64M
 *
 * priority=N is the highest SUBMIT priority the key may use (default: any); queued-bytes=N
 * (a number, optionally followed by k, M or G for powers of 1024) the most bytes its
 * unfinished tasks may hold on the coordinator (default: only --max-client-mb applies).
 * A key may appear once per file. Every error names the file and the line.
 */
#ifndef P2C2R_COORD_ALLOWLIST_H
#define P2C2R_COORD_ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/curve.h"

/* One allowed key. */
typedef struct coord_allowed {
    p2c2r_curve_key key;       /* Z85 public key */
    uint32_t max_priority;     /* highest priority it may ask for (UINT32_MAX: any) */
    uint64_t max_queued_bytes; /* bytes its tasks may hold (0: no limit of its own) */
} coord_allowed;

typedef struct coord_allowlist coord_allowlist;

/* Parse the text of an allowlist; source names it in errors. clients: whether lines may
 * carry limits. P2C2R_OK and *list, or P2C2R_E_INVAL with "SOURCE:LINE: why" in why. */
int coord_allowlist_parse(const char *text, const char *source, bool clients,
                          coord_allowlist **list, char *why, size_t why_size);
/* The same from a file (P2C2R_E_IO when it cannot be read). */
int coord_allowlist_load(const char *path, bool clients, coord_allowlist **list, char *why,
                         size_t why_size);
/* Accepts NULL; sets *list to NULL. */
void coord_allowlist_destroy(coord_allowlist **list);

/* The entry of key, or NULL when it is not on the list. */
const coord_allowed *coord_allowlist_find(const coord_allowlist *list, const char *key);
/* A key on both lists, or NULL when they share none. */
const char *coord_allowlist_shared(const coord_allowlist *a, const coord_allowlist *b);
/* Keys on the list. */
size_t coord_allowlist_size(const coord_allowlist *list);

#endif /* P2C2R_COORD_ALLOWLIST_H */
