/* test_core_tuning.c — the Abseil switch core_tuning_apply needs is there
 * on this platform (a new Abseil that renames it fails here, not silently
 * in the benchmark), and turning detection off leaves gRPC core working. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <grpc/grpc.h>

#include "core_tuning.h"

static void test_deadlock_detection_switch_found(void **state)
{
    (void)state;
    assert_true(core_tuning_apply());
    /* Twice is harmless (a server restarted in one process does it again). */
    assert_true(core_tuning_apply());
}

static void test_core_starts_and_stops_after_it(void **state)
{
    (void)state;
    assert_true(core_tuning_apply());
    grpc_init();
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    grpc_completion_queue_shutdown(cq);
    grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    assert_int_equal(ev.type, GRPC_QUEUE_SHUTDOWN);
    grpc_completion_queue_destroy(cq);
    grpc_shutdown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadlock_detection_switch_found),
        cmocka_unit_test(test_core_starts_and_stops_after_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
