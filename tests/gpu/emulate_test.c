/* emulate_test: the CUDA kernels' own per-thread code, run on the host by
 * peer_cuda_emulate() block by block and phase by phase (see peer/cuda/kernels.h), against
 * the CPU kernels of common/upscale on every case of twin.h. Runs on any machine, no
 * device needed: it checks the tiles, the indexing, the bounds guards and the arithmetic
 * of every kernel; the gpu suite checks the same cases on a device.
 *
 * Tolerance: none, for every mode: the separable modes compute the CPU's integer formula,
 * and the quality mode its float operations in the same order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "testutil.h"
#include "twin.h"

/* One case: 0 when it matched. */
static int run_case(const twin_case *c)
{
    twin_run r;
    peer_cuda_plan *hp = NULL;
    int failed = 1;
    if (twin_run_begin(&r, c) != P2C2R_OK)
        goto done;
    CHECK_RC(peer_cuda_plan_host(r.plan, &hp), P2C2R_OK);
    if (!hp || twin_run_images(&r, c, hp) != P2C2R_OK)
        goto done;
    CHECK_RC(peer_cuda_emulate(hp, &r.src.p, &r.dst.p), P2C2R_OK);
    failed = twin_run_check(&r, c);
done:
    peer_cuda_plan_destroy(&hp);
    twin_run_end(&r);
    return failed;
}

/* Planes that do not fit the plan, and a host plan given to the device launcher. */
static void test_invalid(void)
{
    const p2c2r_upscale_plan *plan = NULL;
    peer_cuda_plan *hp = NULL;
    CHECK_RC(p2c2r__upscale_plan_new(P2C2R_PIX_YUV420P, 67, 45, 3, P2C2R_MODE_BICUBIC, &plan),
             P2C2R_OK);
    CHECK_RC(peer_cuda_plan_host(plan, &hp), P2C2R_OK);
    peer_cuda_planes gs, gd;
    peer_cuda_plan_geometry(hp, &gs, &gd);
    CHECK(gs.nplanes == 3 && gs.width[1] == 34 && gs.height[1] == 23);
    CHECK(gd.width[0] == 201 && gd.height[0] == 135 && gd.width[1] == 101 && gd.height[2] == 68);
    twin_planes src, dst;
    CHECK_RC(twin_planes_alloc(&src, &gs, P2C2R_PIX_YUV420P, 0, 0), P2C2R_OK);
    CHECK_RC(twin_planes_alloc(&dst, &gd, P2C2R_PIX_YUV420P, 0, 0), P2C2R_OK);
    CHECK_RC(peer_cuda_emulate(hp, &src.p, &dst.p), P2C2R_OK);
    CHECK_RC(peer_cuda_upscale(hp, &src.p, &dst.p, NULL), P2C2R_E_INVAL);
    CHECK_RC(peer_cuda_emulate(hp, &src.p, &src.p), P2C2R_E_INVAL);
    CHECK_RC(peer_cuda_emulate(NULL, &src.p, &dst.p), P2C2R_E_INVAL);
    peer_cuda_planes bad = dst.p;
    bad.width[1]++;
    CHECK_RC(peer_cuda_emulate(hp, &src.p, &bad), P2C2R_E_INVAL);
    bad = dst.p;
    bad.pitch[0] = 200;
    CHECK_RC(peer_cuda_emulate(hp, &src.p, &bad), P2C2R_E_INVAL);
    bad = src.p;
    bad.nplanes = 1;
    CHECK_RC(peer_cuda_emulate(hp, &bad, &dst.p), P2C2R_E_INVAL);
    bad = src.p;
    bad.data[2] = NULL;
    CHECK_RC(peer_cuda_emulate(hp, &bad, &dst.p), P2C2R_E_INVAL);
    bad = dst.p;
    bad.data[1] = src.p.data[2];
    CHECK_RC(peer_cuda_emulate(hp, &src.p, &bad), P2C2R_E_INVAL);
    twin_planes_free(&src);
    twin_planes_free(&dst);
    peer_cuda_plan_destroy(&hp);
    p2c2r__upscale_plan_destroy(&plan);
}

int main(void)
{
    test_invalid();
    size_t n = twin_cases(NULL, 0);
    twin_case *cases = calloc(n, sizeof *cases);
    CHECK(cases != NULL);
    if (!cases)
        return testutil_finish("emulate_test");
    twin_cases(cases, n);
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += (size_t)run_case(&cases[i]);
    printf("%zu cases, %zu differ from the CPU\n", n, failed);
    free(cases);
    return testutil_finish("emulate_test");
}
