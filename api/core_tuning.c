/* core_tuning.c — Abseil's debug-build deadlock detection off (see
 * core_tuning.h).
 *
 * absl::SetMutexDeadlockDetectionMode is C++; its mangled name carries
 * Abseil's inline namespace, which Debian sets ("debian3" in bookworm's
 * 20220623 package). It is looked up at run time rather than linked, so a
 * different Abseil costs this saving and nothing else. */
#include "core_tuning.h"

#include <dlfcn.h>
#include <stddef.h>

/* absl::OnDeadlockCycle is `enum class : int { kIgnore, kReport, kAbort }`. */
enum { ABSL_ON_DEADLOCK_CYCLE_IGNORE = 0 };

static const char *const set_deadlock_mode_names[] = {
    "_ZN4absl7debian329SetMutexDeadlockDetectionModeENS0_15OnDeadlockCycleE",
    "_ZN4absl12lts_2022062329SetMutexDeadlockDetectionModeENS0_15OnDeadlockCycleE",
};

bool core_tuning_apply(void)
{
    for (size_t i = 0; i < sizeof set_deadlock_mode_names / sizeof *set_deadlock_mode_names; i++) {
        void *sym = dlsym(RTLD_DEFAULT, set_deadlock_mode_names[i]);
        if (!sym)
            continue;
        void (*set_mode)(int);
        *(void **)&set_mode = sym; /* POSIX's blessed object-to-function cast */
        set_mode(ABSL_ON_DEADLOCK_CYCLE_IGNORE);
        return true;
    }
    return false;
}
