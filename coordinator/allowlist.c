/* allowlist: see allowlist.h. */
#include "coordinator/allowlist.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2c2r_error.h"

/* Longest line read; a longer one is an error, not cut short silently. */
#define LINE_MAX_CHARS 1024

struct coord_allowlist {
    zhashx_t *by_key; /* Z85 key -> coord_allowed (owned) */
};

static void entry_free(void **item)
{
    free(*item);
    *item = NULL;
}

void coord_allowlist_destroy(coord_allowlist **list)
{
    if (!list || !*list)
        return;
    zhashx_destroy(&(*list)->by_key);
    free(*list);
    *list = NULL;
}

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

/* A number with an optional k, M or G (powers of 1024); false when malformed or too big. */
static bool parse_size(const char *text, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*text < '0' || *text > '9')
        return false;
    unsigned long long v = strtoull(text, &end, 10);
    unsigned shift = 0;
    if (*end == 'k' || *end == 'K')
        shift = 10;
    else if (*end == 'M')
        shift = 20;
    else if (*end == 'G')
        shift = 30;
    if (shift)
        end++;
    if (errno || *end || v > (max >> shift))
        return false;
    *out = (uint64_t)v << shift;
    return true;
}

/* One field after the key of a clients line. */
static int parse_field(coord_allowed *entry, const char *field, bool clients, char *why,
                       size_t why_size)
{
    uint64_t v;
    if (!clients) {
        snprintf(why, why_size, "a peers line holds a key and nothing else, not '%s'", field);
        return P2C2R_E_INVAL;
    }
    if (strncmp(field, "priority=", 9) == 0) {
        const char *n = field + 9;
        if (strpbrk(n, "kKMG") || !parse_size(n, UINT32_MAX - 1ull, &v)) {
            snprintf(why, why_size, "priority must be a number 0..%u, not '%s'", UINT32_MAX - 1, n);
            return P2C2R_E_INVAL;
        }
        entry->max_priority = (uint32_t)v;
    } else if (strncmp(field, "queued-bytes=", 13) == 0) {
        if (!parse_size(field + 13, 1ull << 50, &v) || v == 0) {
            snprintf(why, why_size, "queued-bytes must be a number > 0 (with k, M or G), not '%s'",
                     field + 13);
            return P2C2R_E_INVAL;
        }
        entry->max_queued_bytes = v;
    } else {
        snprintf(why, why_size, "unknown field '%s' (priority=N or queued-bytes=N)", field);
        return P2C2R_E_INVAL;
    }
    return P2C2R_OK;
}

/* One line, cut into blank-separated tokens in place. An empty line adds nothing. */
static int parse_line(coord_allowlist *list, char *line, bool clients, char *why, size_t why_size)
{
    char *tokens[8];
    int n = 0;
    char *p = line;
    while (*p) {
        while (is_blank(*p))
            p++;
        if (!*p || (p[0] == '#' && (!p[1] || is_blank(p[1]))))
            break; /* end of line, or a comment */
        if (n == (int)(sizeof tokens / sizeof *tokens)) {
            snprintf(why, why_size, "too many fields");
            return P2C2R_E_INVAL;
        }
        tokens[n++] = p;
        while (*p && !is_blank(*p))
            p++;
        if (*p)
            *p++ = '\0';
    }
    if (n == 0)
        return P2C2R_OK;
    if (!p2c2r__curve_key_valid(tokens[0])) {
        snprintf(why, why_size, "'%.60s' is not a public key (40 Z85 characters)", tokens[0]);
        return P2C2R_E_INVAL;
    }
    if (zhashx_lookup(list->by_key, tokens[0])) {
        snprintf(why, why_size, "key %s is listed twice", tokens[0]);
        return P2C2R_E_INVAL;
    }
    coord_allowed *entry = calloc(1, sizeof *entry);
    if (!entry) {
        snprintf(why, why_size, "out of memory");
        return P2C2R_E_NOMEM;
    }
    snprintf(entry->key, sizeof entry->key, "%s", tokens[0]);
    entry->max_priority = UINT32_MAX;
    for (int i = 1; i < n; i++) {
        int rc = parse_field(entry, tokens[i], clients, why, why_size);
        if (rc != P2C2R_OK) {
            free(entry);
            return rc;
        }
    }
    if (zhashx_insert(list->by_key, entry->key, entry) != 0) {
        free(entry);
        snprintf(why, why_size, "out of memory");
        return P2C2R_E_NOMEM;
    }
    return P2C2R_OK;
}

int coord_allowlist_parse(const char *text, const char *source, bool clients,
                          coord_allowlist **list, char *why, size_t why_size)
{
    *list = NULL;
    coord_allowlist *l = calloc(1, sizeof *l);
    if (!l || !(l->by_key = zhashx_new())) {
        free(l);
        snprintf(why, why_size, "%s: out of memory", source);
        return P2C2R_E_NOMEM;
    }
    zhashx_set_destructor(l->by_key, entry_free);
    int rc = P2C2R_OK;
    unsigned lineno = 0;
    const char *p = text;
    while (*p && rc == P2C2R_OK) {
        lineno++;
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[LINE_MAX_CHARS + 1], detail[256];
        if (len > LINE_MAX_CHARS) {
            snprintf(detail, sizeof detail, "line longer than %d characters", LINE_MAX_CHARS);
            rc = P2C2R_E_INVAL;
        } else {
            memcpy(line, p, len);
            line[len] = '\0';
            rc = parse_line(l, line, clients, detail, sizeof detail);
        }
        if (rc != P2C2R_OK)
            snprintf(why, why_size, "%s:%u: %s", source, lineno, detail);
        p = eol ? eol + 1 : p + len;
    }
    if (rc != P2C2R_OK) {
        coord_allowlist_destroy(&l);
        return rc;
    }
    *list = l;
    return P2C2R_OK;
}

int coord_allowlist_load(const char *path, bool clients, coord_allowlist **list, char *why,
                         size_t why_size)
{
    *list = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_size, "cannot read %s: %s", path, strerror(errno));
        return P2C2R_E_IO;
    }
    /* Allowlists are small; one of more than 64 MiB is a mistake. */
    char *text = NULL;
    size_t size = 0, cap = 0;
    int rc = P2C2R_OK;
    for (;;) {
        if (size + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 65536;
            char *bigger = cap <= (64u << 20) ? realloc(text, cap) : NULL;
            if (!bigger) {
                snprintf(why, why_size, "%s: too big or out of memory", path);
                rc = P2C2R_E_TOOBIG;
                break;
            }
            text = bigger;
        }
        size_t got = fread(text + size, 1, 4096, f);
        size += got;
        if (got < 4096)
            break;
    }
    if (rc == P2C2R_OK && ferror(f)) {
        snprintf(why, why_size, "cannot read %s: %s", path, strerror(errno));
        rc = P2C2R_E_IO;
    }
    fclose(f);
    if (rc == P2C2R_OK) {
        text[size] = '\0';
        if (strlen(text) != size) {
            snprintf(why, why_size, "%s: not a text file (NUL byte)", path);
            rc = P2C2R_E_INVAL;
        } else {
            rc = coord_allowlist_parse(text, path, clients, list, why, why_size);
        }
    }
    free(text);
    return rc;
}

const coord_allowed *coord_allowlist_find(const coord_allowlist *list, const char *key)
{
    return list ? zhashx_lookup(list->by_key, key) : NULL;
}

const char *coord_allowlist_shared(const coord_allowlist *a, const coord_allowlist *b)
{
    for (coord_allowed *x = zhashx_first(a->by_key); x; x = zhashx_next(a->by_key))
        if (coord_allowlist_find(b, x->key))
            return x->key;
    return NULL;
}

size_t coord_allowlist_size(const coord_allowlist *list)
{
    return list ? zhashx_size(list->by_key) : 0;
}
