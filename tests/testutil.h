/* testutil.h - helpers shared by the libcheck suites. */
#ifndef WOOLLY_TESTUTIL_H
#define WOOLLY_TESTUTIL_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "woolly.h"

/* A small deterministic generator (xorshift64*), so that failures repeat. */
static inline uint64_t tu_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [-1, 1). */
static inline float tu_randf(uint64_t *s)
{
    return (float)((tu_rand(s) >> 40) * (1.0 / 8388608.0) - 1.0);
}

/* Every kernel level, each as the ISA mask it enables (wl_kernels_fill). */
static const unsigned tu_level_masks[] = {
    WOOLLY_ISA_AVX2,
    WOOLLY_ISA_AVX2 | WOOLLY_ISA_AVX512,
    WOOLLY_ISA_AVX2 | WOOLLY_ISA_AVX512 | WOOLLY_ISA_AVX512_VNNI,
    WOOLLY_ISA_AVX2 | WOOLLY_ISA_AVX512 | WOOLLY_ISA_AVX512_VNNI | WOOLLY_ISA_AVX512_BF16,
    WOOLLY_ISA_AVX2 | WOOLLY_ISA_AVX512 | WOOLLY_ISA_AVX512_VNNI | WOOLLY_ISA_AVX512_BF16 |
        WOOLLY_ISA_AMX,
    WOOLLY_ISA_NEON,
    WOOLLY_ISA_NEON | WOOLLY_ISA_DOTPROD,
};
#define TU_N_LEVELS (sizeof tu_level_masks / sizeof tu_level_masks[0])
/* The VNNI level, which the AMX kernels leave their tails to. */
#define TU_VNNI_MASK (WOOLLY_ISA_AVX2 | WOOLLY_ISA_AVX512 | WOOLLY_ISA_AVX512_VNNI)

/* Whether this build and this machine can run the level MASK. */
static inline int tu_runnable(unsigned mask)
{
    unsigned here = woolly_isa_compiled() & woolly_isa_detected();
    return (mask & here) == mask;
}

#ifdef WOOLLY_KERNELS_H
/* For suites that include kernels.h: the runs of the kernels they check,
 * every level of tu_level_masks and, where the suite links amx.c's build
 * on emulated tiles (TU_AMX_EMULATED), that build over the VNNI level. */
# ifdef TU_AMX_EMULATED
void wl_kernels_init_amx_emulated(wl_kernels *k);
#  define TU_N_RUNS (TU_N_LEVELS + 1)
# else
#  define TU_N_RUNS TU_N_LEVELS
# endif

/* Fill K with run R's kernels; returns their name, or NULL where this build
 * or this machine cannot run them. */
static inline const char *tu_fill_run(wl_kernels *k, size_t r)
{
    if (r < TU_N_LEVELS)
        return tu_runnable(tu_level_masks[r]) ? wl_kernels_fill(k, tu_level_masks[r]) : NULL;
# ifdef TU_AMX_EMULATED
    if (tu_runnable(TU_VNNI_MASK)) {
        wl_kernels_fill(k, TU_VNNI_MASK);
        wl_kernels_init_amx_emulated(k);
        return "amx (emulated tiles)";
    }
# endif
    return NULL;
}
#endif

/* The reference directory, or NULL when absent (tests then skip, exit 77). */
static inline const char *tu_ref_dir(void)
{
    const char *d = getenv("WOOLLY_REF_DIR");
    return d && *d ? d : NULL;
}

/* Run SUITE, exit with automake's convention. */
static inline int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* WOOLLY_TESTUTIL_H */
