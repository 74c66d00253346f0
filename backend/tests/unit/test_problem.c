#include "check.h"
#include "server/problem.h"

#include <stdlib.h>

int main(void)
{
    char *s =
        problem_json(400, PROBLEM_TYPE_INVALID_PARAMETER, "parameter 'limit' must be an integer from 1 to 100", "req-1", "limit");
    CHECK_STR(s,
              "{\"type\":\"/problems/invalid-parameter\",\"title\":\"Bad Request\",\"status\":400,"
              "\"detail\":\"parameter 'limit' must be an integer from 1 to 100\",\"instance\":\"req-1\",\"parameter\":\"limit\"}");
    free(s);
    s = problem_json(503, NULL, "say \"hi\"", NULL, NULL);
    CHECK_STR(s, "{\"type\":\"about:blank\",\"title\":\"Service Unavailable\",\"status\":503,\"detail\":\"say \\\"hi\\\"\"}");
    free(s);
    s = problem_json(400, NULL, "bad \xff\xfe name", NULL, "\xff");
    CHECK_STR(s,
              "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,\"detail\":\"bad ?? name\",\"parameter\":\"?\"}");
    free(s);
    CHECK_STR(problem_title(404), "Not Found");
    CHECK_STR(problem_title(413), "Content Too Large");
    CHECK_STR(problem_title(599), "Error");
    return check_report("test_problem");
}
