/* check_api.c - version, status codes and CPU reporting of the public API. */
#include <config.h>

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "woolly.h"

START_TEST(version_matches_package)
{
    char buf[32];

    ck_assert_str_eq(woolly_version(), WOOLLY_VERSION_STRING);
    ck_assert_str_eq(WOOLLY_VERSION_STRING, PACKAGE_VERSION);
    snprintf(buf, sizeof buf, "%d.%d.%d", WOOLLY_VERSION_MAJOR, WOOLLY_VERSION_MINOR,
             WOOLLY_VERSION_MICRO);
    ck_assert_str_eq(buf, WOOLLY_VERSION_STRING);
    ck_assert_uint_eq(woolly_version_number(), WOOLLY_VERSION_NUMBER);
}
END_TEST

START_TEST(every_status_has_its_own_message)
{
    for (int a = WOOLLY_OK; a <= WOOLLY_ERR_INTERNAL; a++) {
        const char *ma = woolly_strerror((woolly_status)a);
        ck_assert_ptr_nonnull(ma);
        ck_assert_str_ne(ma, "unknown status");
        for (int b = WOOLLY_OK; b < a; b++)
            ck_assert_str_ne(ma, woolly_strerror((woolly_status)b));
    }
    ck_assert_str_eq(woolly_strerror((woolly_status)999), "unknown status");
}
END_TEST

START_TEST(active_isa_is_compiled_and_detected)
{
    unsigned active = woolly_isa_active();

    ck_assert_uint_eq(active & ~(woolly_isa_compiled() & woolly_isa_detected()), 0);
    ck_assert_ptr_nonnull(woolly_kernel_level());
    ck_assert_str_eq(woolly_isa_name(WOOLLY_ISA_AVX2), "avx2");
    ck_assert_str_eq(woolly_isa_name(WOOLLY_ISA_AMX), "amx");
    ck_assert_ptr_null(woolly_isa_name(1u << 30));
}
END_TEST

START_TEST(woolly_cpu_scalar_caps_everything)
{
    setenv("WOOLLY_CPU", "scalar", 1);   /* each test runs in a fresh process */
    ck_assert_uint_eq(woolly_isa_active(), 0);
    ck_assert_str_eq(woolly_kernel_level(), "scalar");
}
END_TEST

START_TEST(woolly_cpu_avx2_caps_wider_sets)
{
    setenv("WOOLLY_CPU", "avx2", 1);
    ck_assert_uint_eq(woolly_isa_active() & ~WOOLLY_ISA_AVX2, 0);
    if (woolly_isa_detected() & woolly_isa_compiled() & WOOLLY_ISA_AVX2)
        ck_assert_str_eq(woolly_kernel_level(), "avx2");
}
END_TEST

START_TEST(kernel_level_names_are_validated)
{
    ck_assert(woolly_kernel_level_valid("scalar"));
    ck_assert(woolly_kernel_level_valid("avx512"));
    ck_assert(woolly_kernel_level_valid("native"));
    ck_assert(!woolly_kernel_level_valid("avx3"));
    ck_assert(!woolly_kernel_level_valid(""));
}
END_TEST

START_TEST(types_have_names_and_block_sizes)
{
    woolly_type t;
    int n_known = 0;

    for (int i = 0; i < WOOLLY_TYPE_COUNT; i++) {
        const char *name = woolly_type_name((woolly_type)i);
        if (!name) {
            ck_assert_uint_eq(woolly_type_block_size((woolly_type)i), 0);
            continue;
        }
        n_known++;
        ck_assert_int_eq(woolly_type_from_name(name, &t), WOOLLY_OK);
        ck_assert_int_eq(t, i);
        ck_assert_uint_gt(woolly_type_block_bytes((woolly_type)i), 0);
    }
    ck_assert_int_eq(n_known, 32);   /* 40 numbers, 8 retired */
    ck_assert_uint_eq(woolly_type_block_size(WOOLLY_TYPE_Q4_K), 256);
    ck_assert_uint_eq(woolly_type_block_bytes(WOOLLY_TYPE_Q4_K), 144);
    ck_assert_uint_eq(woolly_type_block_bytes(WOOLLY_TYPE_Q8_0), 34);
    ck_assert_uint_eq(woolly_type_block_bytes(WOOLLY_TYPE_Q6_K), 210);
    ck_assert_int_eq(woolly_type_from_name("Q4_K", &t), WOOLLY_OK);
    ck_assert_int_eq(t, WOOLLY_TYPE_Q4_K);
    ck_assert_int_eq(woolly_type_from_name("q4_2", &t), WOOLLY_ERR_INVALID);
    ck_assert_ptr_null(woolly_type_name((woolly_type)4));
    ck_assert_ptr_null(woolly_type_name((woolly_type)WOOLLY_TYPE_COUNT));
    ck_assert(woolly_type_supported(WOOLLY_TYPE_F32));
    ck_assert(!woolly_type_supported(WOOLLY_TYPE_IQ2_XXS));
}
END_TEST

/* An older caller's params struct is shorter: _init writes only what it has,
 * and says so in its size field. */
START_TEST(params_init_respects_the_callers_size)
{
    unsigned char buf[sizeof(woolly_session_params) + 16];
    size_t small = offsetof(woolly_session_params, n_batch), got;
    woolly_session_params full;

    memset(buf, 0xab, sizeof buf);
    woolly_session_params_init((woolly_session_params *)(void *)buf, small);
    for (size_t i = small; i < sizeof buf; i++)
        ck_assert_msg(buf[i] == 0xab, "byte %zu written", i);
    memcpy(&got, buf, sizeof got);
    ck_assert_uint_eq(got, small);
    woolly_session_params_init(&full, sizeof full + 100);   /* a newer caller: capped */
    ck_assert_uint_eq(full.size, sizeof full);
    ck_assert_uint_eq(full.n_batch, 64);
    woolly_session_params_init((woolly_session_params *)(void *)buf, 3);   /* too small for size */
    ck_assert_uint_eq(buf[0], 0x00 + (small & 0xff));
}
END_TEST

static int logged;
static void count_log(woolly_log_level level, const char *msg, void *user)
{
    (void)level;
    if (strstr(msg, "bogus"))
        (*(int *)user)++;
}

START_TEST(unknown_woolly_cpu_is_logged_and_ignored)
{
    logged = 0;
    woolly_log_set(count_log, &logged);
    setenv("WOOLLY_CPU", "bogus", 1);
    ck_assert_uint_eq(woolly_isa_active(), woolly_isa_compiled() & woolly_isa_detected());
    ck_assert_int_eq(logged, 1);
    woolly_log_set(NULL, NULL);
}
END_TEST

static Suite *api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("version");

    tcase_add_test(tc, version_matches_package);
    tcase_add_test(tc, every_status_has_its_own_message);
    tcase_add_test(tc, types_have_names_and_block_sizes);
    tcase_add_test(tc, params_init_respects_the_callers_size);
    suite_add_tcase(s, tc);
    tc = tcase_create("cpu");
    tcase_add_test(tc, active_isa_is_compiled_and_detected);
    tcase_add_test(tc, woolly_cpu_scalar_caps_everything);
    tcase_add_test(tc, woolly_cpu_avx2_caps_wider_sets);
    tcase_add_test(tc, kernel_level_names_are_validated);
    tcase_add_test(tc, unknown_woolly_cpu_is_logged_and_ignored);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(api_suite());
}
