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
    const peer_runtime *rt = caps->runtime;
    info->runtime = (char *)(rt ? rt->name : "cpu");
    info->runtime_detail = (char *)(rt ? rt->detail : "");
    info->cuda_driver = rt ? (uint32_t)rt->cuda_driver : 0;
    info->cuda_runtime = rt ? (uint32_t)rt->cuda_runtime : 0;
    info->simd = (char *)caps->simd;
    info->memory_total = caps->memory_total;
    info->memory_free = peer_caps_memory_free();
}

void peer_caps_fill_devices(const peer_caps *caps, const peer_resources *res, uint32_t slots,
                            P2c2r__Wire__PeerInfo *info, peer_caps_devices *room)
{
    peer_runtime *rt = caps->runtime;
    if (!rt || !rt->ndevices)
        return;
    peer_runtime_refresh(rt);
    for (uint32_t i = 0; i < rt->ndevices && i < PEER_MAX_EXECUTORS; i++) {
        const peer_device *d = &rt->devices[i];
        P2c2r__Wire__Device *w = &room->dev[i];
        *w = (P2c2r__Wire__Device)P2C2R__WIRE__DEVICE__INIT;
        w->name = (char *)d->name;
        w->memory_total = d->memory_total;
        w->memory_free = d->memory_free;
        w->compute_major = d->compute_major;
        w->compute_minor = d->compute_minor;
        w->multiprocessors = d->multiprocessors;
        w->ordinal = (uint32_t)d->ordinal;
        /* Slot s runs on executor s % nexecutors (resources.h). */
        uint32_t n = res->nexecutors ? res->nexecutors : 1;
        w->slots = slots / n + (i < slots % n ? 1 : 0);
        peer_executor *ex = peer_resources_executor(res, i);
        size_t bytes = 0;
        if (ex->ops->resident)
            ex->ops->resident(ex, NULL, 0, &bytes);
        w->tables_bytes = bytes;
        room->ptr[i] = w;
    }
    info->devices = room->ptr;
    info->n_devices = rt->ndevices;
}
