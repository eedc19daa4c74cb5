/* vnni.c - kernels for AVX512-VNNI (built with VNNI_CFLAGS). */
#include <config.h>

#include <immintrin.h>

#include "kernels/kernels.h"
#define WL_X86_VNNI 1
#include "kernels/x86-quant.h"

/* dpbusd multiplies unsigned by signed bytes.  Shift x by +128 into the
 * unsigned range and take the surplus back out:
 *   sum (x+128)*y = sum x*y + 128 * sum y. */
static int32_t dot_i8(size_t n, const int8_t *x, const int8_t *y)
{
    const __m512i bias = _mm512_set1_epi8((char)0x80);
    const __m512i ones = _mm512_set1_epi8(1);
    __m512i acc = _mm512_setzero_si512(), ysum = _mm512_setzero_si512();
    size_t i = 0;
    int32_t sum;

    for (; i + 64 <= n; i += 64) {
        __m512i vx = _mm512_loadu_si512(x + i);
        __m512i vy = _mm512_loadu_si512(y + i);
        acc = _mm512_dpbusd_epi32(acc, _mm512_xor_si512(vx, bias), vy);
        ysum = _mm512_dpbusd_epi32(ysum, ones, vy);
    }
    sum = _mm512_reduce_add_epi32(acc) - 128 * _mm512_reduce_add_epi32(ysum);
    for (; i < n; i++)
        sum += (int32_t)x[i] * (int32_t)y[i];
    return sum;
}

void wl_kernels_init_vnni(wl_kernels *k)
{
    xq_init(k);
    k->dot_i8 = dot_i8;
}
