/* kernels-standalone.c - every kernel level this machine runs against the
 * scalar reference, without Check: for cross builds run under an emulator
 * (tests/cross-aarch64.sh).  Exit 0 when all agree. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/kernels.h"
#include "woolly.h"

static uint64_t rng = 88172645463325252ULL;

static float randf(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

int main(void)
{
    static const unsigned masks[] = {
        WOOLLY_ISA_AVX2, WOOLLY_ISA_AVX2 | WOOLLY_ISA_AVX512,
        WOOLLY_ISA_AVX2 | WOOLLY_ISA_AVX512 | WOOLLY_ISA_AVX512_VNNI,
        WOOLLY_ISA_NEON, WOOLLY_ISA_NEON | WOOLLY_ISA_DOTPROD,
    };
    static float x[4096], y[4096];
    static int8_t a[4096], b[4096];
    static uint8_t wq[8192], aq[8192];
    unsigned here = woolly_isa_compiled() & woolly_isa_detected();
    int failures = 0, levels = 0;
    wl_kernels ref, k;

    for (int i = 0; i < 4096; i++) {
        x[i] = randf();
        y[i] = randf();
        a[i] = (int8_t)(randf() * 127);
        b[i] = (int8_t)(randf() * 127);
    }
    wl_kernels_fill(&ref, 0);
    for (size_t m = 0; m < sizeof masks / sizeof masks[0]; m++) {
        if ((masks[m] & here) != masks[m])
            continue;
        const char *name = wl_kernels_fill(&k, masks[m]);
        levels++;
        for (size_t n = 0; n <= 4096; n = n ? n * 2 + 1 : 1) {
            double mag = 0;
            for (size_t i = 0; i < n; i++)
                mag += fabs((double)x[i] * y[i]);
            if (fabs(k.dot_f32(n, x, y) - ref.dot_f32(n, x, y)) > 1e-6 * mag + 1e-30) {
                printf("FAIL %s dot_f32 n=%zu\n", name, n);
                failures++;
            }
            if (k.dot_i8(n, a, b) != ref.dot_i8(n, a, b)) {
                printf("FAIL %s dot_i8 n=%zu\n", name, n);
                failures++;
            }
        }
        for (int t = 0; t < WOOLLY_TYPE_COUNT; t++) {
            const wl_type_kernels *r = &ref.type[t];
            if (!r->vec_dot || !r->from_float)
                continue;
            size_t n = 1024;
            r->from_float(x, wq, n);
            ref.type[r->vec_dot_type].from_float(y, aq, n);
            float want = r->vec_dot(n, wq, aq), got = k.type[t].vec_dot(n, wq, aq);
            if (t != WOOLLY_TYPE_F32 && t != WOOLLY_TYPE_F16 && t != WOOLLY_TYPE_BF16 &&
                memcmp(&want, &got, sizeof want) != 0) {
                printf("FAIL %s %s vec_dot: %.9g vs %.9g\n", name, woolly_type_name((woolly_type)t),
                       (double)got, (double)want);
                failures++;
            } else if (fabsf(got - want) > 1e-3f * (1 + fabsf(want))) {
                printf("FAIL %s %s vec_dot: %.9g vs %.9g\n", name, woolly_type_name((woolly_type)t),
                       (double)got, (double)want);
                failures++;
            }
        }
    }
    printf("%d kernel levels checked against scalar, %d failures\n", levels, failures);
    return failures ? 1 : 0;
}
