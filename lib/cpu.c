/*
 * cpu.c - what the CPU and the operating system support, and the kernel
 * table chosen from it, filled once per process.
 */
#include <config.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(HAVE_CPUID_H)
# include <cpuid.h>
# include <sys/syscall.h>
# include <unistd.h>
#endif
#if defined(__aarch64__) && defined(HAVE_SYS_AUXV_H)
# include <sys/auxv.h>
#endif

#include "internal.h"
#include "kernels/kernels.h"

#define AVX512_MASK (WOOLLY_ISA_AVX2 | WOOLLY_ISA_AVX512)
#define VNNI_MASK (AVX512_MASK | WOOLLY_ISA_AVX512_VNNI)
#define BF16_MASK (VNNI_MASK | WOOLLY_ISA_AVX512_BF16)
#define AMX_MASK (BF16_MASK | WOOLLY_ISA_AMX)

/* Levels, lowest first.  Each includes every bit of the ones before it in
 * its architecture; WOOLLY_CPU=NAME keeps only that prefix. */
static const struct level {
    const char *name;
    unsigned bit;
    unsigned allowed; /* the mask WOOLLY_CPU=name leaves */
    void (*init)(wl_kernels *k);
} levels[] = {
    { "scalar", 0, 0, NULL },
#ifdef HAVE_AVX2
    { "avx2", WOOLLY_ISA_AVX2, WOOLLY_ISA_AVX2, wl_kernels_init_avx2 },
#else
    { "avx2", WOOLLY_ISA_AVX2, WOOLLY_ISA_AVX2, NULL },
#endif
#ifdef HAVE_AVX512
    { "avx512", WOOLLY_ISA_AVX512, AVX512_MASK, wl_kernels_init_avx512 },
#else
    { "avx512", WOOLLY_ISA_AVX512, AVX512_MASK, NULL },
#endif
#ifdef HAVE_VNNI
    { "vnni", WOOLLY_ISA_AVX512_VNNI, VNNI_MASK, wl_kernels_init_vnni },
#else
    { "vnni", WOOLLY_ISA_AVX512_VNNI, VNNI_MASK, NULL },
#endif
#ifdef HAVE_BF16
    { "bf16", WOOLLY_ISA_AVX512_BF16, BF16_MASK, wl_kernels_init_bf16 },
#else
    { "bf16", WOOLLY_ISA_AVX512_BF16, BF16_MASK, NULL },
#endif
#ifdef HAVE_AMX
    { "amx", WOOLLY_ISA_AMX, AMX_MASK, wl_kernels_init_amx },
#else
    { "amx", WOOLLY_ISA_AMX, AMX_MASK, NULL },
#endif
#ifdef HAVE_NEON
    { "neon", WOOLLY_ISA_NEON, WOOLLY_ISA_NEON, wl_kernels_init_neon },
#else
    { "neon", WOOLLY_ISA_NEON, WOOLLY_ISA_NEON, NULL },
#endif
#ifdef HAVE_DOTPROD
    { "dotprod", WOOLLY_ISA_DOTPROD, WOOLLY_ISA_NEON | WOOLLY_ISA_DOTPROD, wl_kernels_init_dotprod },
#else
    { "dotprod", WOOLLY_ISA_DOTPROD, WOOLLY_ISA_NEON | WOOLLY_ISA_DOTPROD, NULL },
#endif
};
#define N_LEVELS (sizeof levels / sizeof levels[0])

/* Written once under pthread_once, read-only afterwards. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static wl_kernels table;
static unsigned isa_detected, isa_active;
static const char *level_name = "scalar";

#if defined(__x86_64__) && defined(HAVE_CPUID_H)
static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;

    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* Linux keeps the 8 KiB AMX tile state off until a process asks for it. */
static int amx_permitted(void)
{
# ifdef SYS_arch_prctl
    const long ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18;
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
# else
    return 0;
# endif
}

static unsigned detect(void)
{
    unsigned a, b, c, d, max;
    unsigned isa = 0;
    uint64_t xcr0;

    max = (unsigned)__get_cpuid_max(0, NULL);
    if (max < 7)
        return 0;
    __cpuid(1, a, b, c, d);
    if (!(c & (1u << 27)) || !(c & (1u << 28)))    /* OSXSAVE, AVX */
        return 0;
    xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6)                       /* XMM and YMM state saved */
        return 0;
    int fma = !!(c & (1u << 12)), f16c = !!(c & (1u << 29));
    __cpuid_count(7, 0, a, b, c, d);
    unsigned ebx7 = b, ecx7 = c, edx7 = d, eax7 = a;
    if ((ebx7 & (1u << 5)) && fma && f16c)
        isa |= WOOLLY_ISA_AVX2;
    /* AVX-512: F(16) DQ(17) BW(30) VL(31), and opmask/ZMM state saved. */
    const unsigned avx512 = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31);
    if ((isa & WOOLLY_ISA_AVX2) && (ebx7 & avx512) == avx512 && (xcr0 & 0xe0) == 0xe0)
        isa |= WOOLLY_ISA_AVX512;
    if ((isa & WOOLLY_ISA_AVX512) && (ecx7 & (1u << 11)))
        isa |= WOOLLY_ISA_AVX512_VNNI;
    if ((isa & WOOLLY_ISA_AVX512) && eax7 >= 1) {
        __cpuid_count(7, 1, a, b, c, d);
        if (a & (1u << 5))
            isa |= WOOLLY_ISA_AVX512_BF16;
    }
    /* AMX: TILE(24) INT8(25) BF16(22), tile state in XCR0 (17, 18). */
    const unsigned amx = (1u << 22) | (1u << 24) | (1u << 25);
    if ((isa & WOOLLY_ISA_AVX512_VNNI) && (edx7 & amx) == amx && amx_permitted())
        isa |= WOOLLY_ISA_AMX;
    return isa;
}
#elif defined(__aarch64__)
static unsigned detect(void)
{
    unsigned isa = WOOLLY_ISA_NEON;
# if defined(HAVE_GETAUXVAL) && defined(HWCAP_ASIMDDP)
    if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP)
        isa |= WOOLLY_ISA_DOTPROD;
# endif
    return isa;
}
#else
static unsigned detect(void)
{
    return 0;
}
#endif

#if defined(__x86_64__) && defined(HAVE_CPUID_H)
/* The family of an AMD processor (0x1A: Zen 5); 0 for any other vendor. */
static unsigned amd_family(void)
{
    unsigned a, b, c, d;

    if (!__get_cpuid(0, &a, &b, &c, &d) || b != 0x68747541u || d != 0x69746e65u || c != 0x444d4163u)
        return 0;   /* not "AuthenticAMD" */
    __cpuid(1, a, b, c, d);
    unsigned family = (a >> 8) & 0xF;
    if (family == 0xF)
        family += (a >> 20) & 0xFF;
    return family;
}
#else
static unsigned amd_family(void)
{
    return 0;
}
#endif

/* AMD's Zen 5 (family 1Ah) runs FMAs of subnormals at the speed of the
 * others (measured); Intel's cores take a microcode assist for each.  The
 * earlier AMD families are left with the Intel way, unmeasured: only the
 * speed of the weighted sums depends on it, never their bits. */
int wl_cpu_fast_subnormals(void)
{
    return amd_family() >= 0x1A;
}

/* The one-token F32 and F16 tiles read 4 rows at a time.  On the Intel
 * VMs they were measured on, software prefetching of each row ahead and
 * of the next tile's rows made decoding faster (5.7 -> 7.1 t/s); on a
 * Zen 5, whose prefetchers follow the 4 streams, slower (F32 TinyLlama
 * tg32 10.2-11.4 against 12.4-14.0 t/s without, runs taken in turn).
 * Earlier AMD families are left with the Intel way, unmeasured. */
int wl_cpu_prefetch_float_rows(void)
{
    return amd_family() < 0x1A;
}

/* The mask of bits WOOLLY_CPU allows; ~0u when unset or unknown. */
static unsigned cap_from_env(void)
{
    const char *want = getenv("WOOLLY_CPU");

    if (!want || !*want || strcmp(want, "native") == 0 || strcmp(want, "auto") == 0)
        return ~0u;
    for (size_t i = 0; i < N_LEVELS; i++)
        if (strcmp(want, levels[i].name) == 0)
            return levels[i].allowed;
    wl_log(WOOLLY_LOG_WARN, "WOOLLY_CPU=%s is not a known kernel level; ignored", want);
    return ~0u;
}

const char *wl_kernels_fill(wl_kernels *k, unsigned isa)
{
    const char *name = "scalar";

    wl_kernels_init_scalar(k);
    for (size_t i = 1; i < N_LEVELS; i++) {
        if (!(isa & levels[i].bit) || !levels[i].init)
            continue;
        levels[i].init(k);
        name = levels[i].name;
    }
    return name;
}

static void init_once(void)
{
    unsigned allowed = cap_from_env();

    isa_detected = detect();
    isa_active = isa_detected & woolly_isa_compiled() & allowed;
    level_name = wl_kernels_fill(&table, isa_active);
    wl_log(WOOLLY_LOG_DEBUG, "kernels: %s", level_name);
}

const wl_kernels *wl_kernels_get(void)
{
    pthread_once(&once, init_once);
    return &table;
}

unsigned woolly_isa_compiled(void)
{
    unsigned isa = 0;

    for (size_t i = 1; i < N_LEVELS; i++)
        if (levels[i].init)
            isa |= levels[i].bit;
    return isa;
}

unsigned woolly_isa_detected(void)
{
    pthread_once(&once, init_once);
    return isa_detected;
}

unsigned woolly_isa_active(void)
{
    pthread_once(&once, init_once);
    return isa_active;
}

const char *woolly_isa_name(unsigned isa_bit)
{
    for (size_t i = 1; i < N_LEVELS; i++)
        if (levels[i].bit == isa_bit)
            return levels[i].name;
    return NULL;
}

const char *woolly_kernel_level(void)
{
    pthread_once(&once, init_once);
    return level_name;
}

int woolly_kernel_level_valid(const char *name)
{
    for (size_t i = 0; i < N_LEVELS; i++)
        if (strcmp(name, levels[i].name) == 0)
            return 1;
    return strcmp(name, "native") == 0 || strcmp(name, "auto") == 0;
}
