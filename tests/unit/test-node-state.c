/* SPDX-License-Identifier: MIT */
/* state.json: round trip, file mode, and damaged or hostile files rejected without guessing. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fileio.h"
#include "node-state.h"

static void node_state__round_trip__same_values(void **state)
{
        NodeState s = {.role = ROLE_MASTER,
                       .membership = MEMBERSHIP_STARTED,
                       .attempts = 3,
                       .vote = {.candidate = "m-0a0b0c", .last_seen_usec = 123456789012ULL}};
        NodeState back;
        char *text = NULL;

        assert_int_equal(node_state_to_json(&s, &text), 0);
        assert_int_equal(node_state_from_json(text, strlen(text), &back), 0);
        assert_int_equal(back.role, ROLE_MASTER);
        assert_int_equal(back.membership, MEMBERSHIP_STARTED);
        assert_int_equal(back.attempts, 3);
        assert_string_equal(back.vote.candidate, "m-0a0b0c");
        assert_int_equal(back.vote.last_seen_usec, 123456789012ULL);
        free(text);
}

static void node_state__save_load__atomic_file_mode_0600(void **state)
{
        char dir[] = "/tmp/piagent-state-XXXXXX", path[128];
        NodeState s = {.role = ROLE_WORKER, .membership = MEMBERSHIP_JOINED}, back;
        struct stat st;

        assert_non_null(mkdtemp(dir));
        assert_int_equal(node_state_load(dir, &back), -ENOENT);
        assert_int_equal(node_state_save(dir, &s), 0);
        assert_int_equal(node_state_load(dir, &back), 0);
        assert_true(node_state_is_member(&back));
        snprintf(path, sizeof path, "%s/state.json", dir);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        unlink(path);
        rmdir(dir);
}

static void node_state_from_json__damaged__einval(void **state)
{
        static const char *const bad[] = {
                "",
                "{",
                "[]",
                "{\"version\":1}",
                "{\"version\":2,\"role\":\"master\",\"membership\":\"none\",\"attempts\":0,\"vote\":{\"candidate\":"
                "\"\","
                "\"last_seen_usec\":0}}",
                "{\"version\":1,\"role\":\"king\",\"membership\":\"none\",\"attempts\":0,\"vote\":{\"candidate\":\"\","
                "\"last_seen_usec\":0}}",
                "{\"version\":1,\"role\":\"master\",\"membership\":\"done\",\"attempts\":0,\"vote\":{\"candidate\":"
                "\"\","
                "\"last_seen_usec\":0}}",
                "{\"version\":1,\"role\":\"master\",\"membership\":\"none\",\"attempts\":-1,\"vote\":{\"candidate\":"
                "\"\","
                "\"last_seen_usec\":0}}",
                "{\"version\":1,\"role\":\"master\",\"membership\":\"none\",\"attempts\":0,\"vote\":\"x\"}",
                "{\"version\":1,\"role\":\"master\",\"membership\":\"none\",\"attempts\":0,\"vote\":{\"candidate\":"
                "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"last_seen_usec\":0}}",
                "{\"version\":1,\"role\":\"master\",\"membership\":\"none\",\"attempts\":0,\"vote\":{\"candidate\":"
                "\"\","
                "\"last_seen_usec\":1.5}} trailing",
        };
        NodeState s;

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                if (node_state_from_json(bad[i], strlen(bad[i]), &s) != -EINVAL)
                        fail_msg("accepted damaged state #%zu: %s", i, bad[i]);
}

static void node_state_from_json__never_written_role__invalid_role(void **state)
{
        const char *t = "{\"version\":1,\"role\":\"\",\"membership\":\"none\",\"attempts\":0,\"vote\":{\"candidate\":"
                        "\"\",\"last_seen_usec\":0}}";
        NodeState s;

        assert_int_equal(node_state_from_json(t, strlen(t), &s), 0);
        assert_int_equal(s.role, _ROLE_INVALID);
        assert_false(node_state_is_member(&s));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(node_state__round_trip__same_values),
                cmocka_unit_test(node_state__save_load__atomic_file_mode_0600),
                cmocka_unit_test(node_state_from_json__damaged__einval),
                cmocka_unit_test(node_state_from_json__never_written_role__invalid_role),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
