/* caps: see caps.h. */
#include "peer/caps.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/task.h"

/* A "Name:  N kB" line of /proc/meminfo, in bytes, or 0. */
static uint64_t meminfo(const char *name)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return 0;
    char line[256];
    size_t len = strlen(name);
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, name, len) == 0 && line[len] == ':' &&
            sscanf(line + len + 1, "%llu", &kb) == 1)
            break;
    fclose(f);
    return (uint64_t)kb * 1024u;
}

uint64_t peer_caps_memory_free(void)
{
    return meminfo("MemAvailable");
}

int peer_caps_detect(peer_caps *caps, const char *kinds, const char *simd, const char **bad)
{
    memset(caps, 0, sizeof *caps);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    caps->cpu_cores = cores > 0 ? (uint32_t)cores : 1;
    caps->memory_total = meminfo("MemTotal");
    caps->simd = simd;
    size_t n = peer_kinds_count < PEER_CAPS_MAX_KINDS ? peer_kinds_count : PEER_CAPS_MAX_KINDS;
    if (!kinds) {
        for (size_t i = 0; i < n; i++)
            caps->runs[i] = true;
        return P2C2R_OK;
    }
    char list[256];
    snprintf(list, sizeof list, "%s", kinds);
    static char unknown[64];
    int named = 0;
    for (char *save = NULL, *name = strtok_r(list, ",", &save); name;
         name = strtok_r(NULL, ",", &save)) {
        int k = peer_kind_index(name);
        if (k < 0 || (size_t)k >= n) {
            snprintf(unknown, sizeof unknown, "%s", name);
            *bad = unknown;
            return P2C2R_E_INVAL;
        }
        caps->runs[k] = true;
        named++;
    }
    if (!named) {
        *bad = "(none)";
        return P2C2R_E_INVAL;
    }
    return P2C2R_OK;
}

void peer_caps_fill(const peer_caps *caps, P2c2r__Wire__PeerInfo *info, char **kinds,
                    P2c2r__Wire__UpscaleMode *modes)
{
    size_t nkinds = 0;
    bool upscale = false;
    for (size_t i = 0; i < peer_kinds_count && i < PEER_CAPS_MAX_KINDS; i++) {
        if (!caps->runs[i])
            continue;
        kinds[nkinds++] = (char *)peer_kinds[i]->name;
        upscale |= strcmp(peer_kinds[i]->name, "upscale") == 0;
    }
    info->kinds = kinds;
    info->n_kinds = nkinds;
    /* The CPU kernels (common/upscale) run every mode. */
    static const P2c2r__Wire__UpscaleMode all[] = {
        P2C2R__WIRE__UPSCALE_MODE__FAST, P2C2R__WIRE__UPSCALE_MODE__BICUBIC,
        P2C2R__WIRE__UPSCALE_MODE__LANCZOS, P2C2R__WIRE__UPSCALE_MODE__QUALITY};
    info->n_modes = upscale ? 4 : 0;
    memcpy(modes, all, sizeof all);
    info->modes = modes;
    info->cpu_cores = caps->cpu_cores;
    info->runtime = "cpu";
    info->simd = (char *)caps->simd;
    info->memory_total = caps->memory_total;
    info->memory_free = peer_caps_memory_free();
}
