/* SPDX-License-Identifier: MIT */
/* The one phase vocabulary: every word parses back to its enum, the words on the wire stay as they were, an
 * unknown well-formed word is PHASE_OTHER and a malformed one is rejected. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "phase.h"

static void phase_from_string__every_word__roundtrip(void **state)
{
        for (Phase p = 0; p < _PHASE_MAX; p++) {
                if (p == PHASE_OTHER) {
                        assert_null(phase_to_string(p));
                        continue;
                }
                assert_non_null(phase_to_string(p));
                assert_true(phase_word_is_valid(phase_to_string(p)));
                assert_int_equal(phase_from_string(phase_to_string(p)), p);
        }
}

/* The words are the wire format (TXT phase=, STATUS=, the exchange's status): other agents parse them. */
static void phase_to_string__words__unchanged(void **state)
{
        static const char *const words[] = {"starting",     "config-error",
                                            "configured",   "discovering",
                                            "configuring",  "preflight",
                                            "cleanup",      "waiting-for-endpoint",
                                            "electing",     "waiting-for-master",
                                            "initializing", "joining",
                                            "backoff",      "ready",
                                            "failed"};
        size_t n = sizeof words / sizeof words[0];

        assert_int_equal(n, _PHASE_MAX - 1); /* every phase but PHASE_OTHER */
        for (size_t i = 0; i < n; i++)
                assert_string_equal(phase_to_string(phase_from_string(words[i])), words[i]);
}

static void phase_from_string__unknown_or_malformed__other_or_invalid(void **state)
{
        assert_int_equal(phase_from_string("some-future-phase"), PHASE_OTHER);
        assert_int_equal(phase_from_string("x"), PHASE_OTHER);
        assert_int_equal(phase_from_string(NULL), _PHASE_INVALID);
        assert_int_equal(phase_from_string(""), _PHASE_INVALID);
        assert_int_equal(phase_from_string("Ready"), _PHASE_INVALID);
        assert_int_equal(phase_from_string("a b"), _PHASE_INVALID);
        assert_int_equal(phase_from_string("abcdefghijklmnopqrstuvwxyz0123456"), _PHASE_INVALID); /* 33 */
        assert_int_equal(phase_from_string("abcdefghijklmnopqrstuvwxyz012345"), PHASE_OTHER);     /* 32 */
        assert_null(phase_to_string(_PHASE_MAX));
        assert_null(phase_to_string(_PHASE_INVALID));
}

static void phase_word__other__the_peers_word(void **state)
{
        assert_string_equal(phase_word(PHASE_READY, "ignored"), "ready");
        assert_string_equal(phase_word(PHASE_OTHER, "some-future-phase"), "some-future-phase");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(phase_from_string__every_word__roundtrip),
                cmocka_unit_test(phase_to_string__words__unchanged),
                cmocka_unit_test(phase_from_string__unknown_or_malformed__other_or_invalid),
                cmocka_unit_test(phase_word__other__the_peers_word),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
