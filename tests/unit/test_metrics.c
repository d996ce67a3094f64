/* The exposition writers (common/metrics.h) and the strict checker that the e2e tests use:
 * good output passes, each kind of malformed output is caught. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "promcheck.h"

static void expect_ok(const char *text)
{
    char err[256] = "";
    if (sfp_prom_check(text, err, sizeof err)) fail_msg("rejected: %s\n%s", err, text);
}

static void expect_bad(const char *text, const char *why)
{
    char err[256] = "";
    assert_int_equal(sfp_prom_check(text, err, sizeof err), -1);
    if (!strstr(err, why)) fail_msg("expected '%s', got '%s'", why, err);
}

static void test_writers_produce_valid_text(void **state)
{
    (void)state;
    sfp_buf b;
    sfp_buf_init(&b);
    sfp_metrics_family(&b, "t_requests_total", "counter", "Requests\nwith a \\ backslash.");
    sfp_buf lb;
    sfp_buf_init(&lb);
    sfp_metrics_label(&lb, "path", "/a\"b\\c\nd");
    sfp_metrics_label(&lb, "code", "200");
    sfp_metrics_sample(&b, "t_requests_total", lb.data, 3);
    sfp_metrics_family(&b, "t_latency_seconds", "histogram", "Latency.");
    sfp_hist h = {0};
    sfp_hist_observe(&h, 0.05);
    sfp_hist_observe(&h, 3);
    sfp_hist_observe(&h, 20000);
    sfp_metrics_histogram(&b, "t_latency_seconds", "route=\"/x\"", &h);
    sfp_hist empty = {0};
    sfp_metrics_histogram(&b, "t_latency_seconds", "route=\"/y\"", &empty);
    sfp_metrics_family(&b, "t_ratio", "gauge", "A gauge.");
    sfp_metrics_sample(&b, "t_ratio", NULL, 0.1);
    expect_ok(b.data);
    assert_true(strstr(b.data, "path=\"/a\\\"b\\\\c\\nd\",code=\"200\"") != NULL);
    assert_true(strstr(b.data, "# HELP t_requests_total Requests\\nwith a \\\\ backslash.\n") != NULL);
    assert_true(sfp_prom_value(b.data, "t_latency_seconds_bucket", "le=\"+Inf\"") == 3);
    assert_true(sfp_prom_value(b.data, "t_latency_seconds_count", "route=\"/x\"") == 3);
    assert_true(sfp_prom_value(b.data, "t_latency_seconds_bucket", "le=\"0.0001\"") == 1);
    assert_true(fabs(sfp_prom_value(b.data, "t_latency_seconds_sum", "route=\"/x\"") - 20.00305) < 1e-9);
    assert_true(sfp_prom_value(b.data, "t_ratio", NULL) == 0.1);
    assert_true(sfp_prom_value("x{r=\"/a/{b}\",c=\"2\"} 7\n", "x", "r=\"/a/{b}\",c=\"2\"") == 7);
    sfp_buf_free(&lb);
    sfp_buf_free(&b);
}

static void test_checker_rejects(void **state)
{
    (void)state;
    expect_bad("a 1", "newline");
    expect_bad("# TYPE a counter\na -1\n", "negative");
    expect_bad("# TYPE a counter\n# TYPE a counter\na 1\n", "second TYPE");
    expect_bad("a 1\n# TYPE a counter\n", "after its samples");
    expect_bad("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"1\"} 2\n", "not contiguous");
    expect_bad("# TYPE a gauge\na 1\na 2\n", "duplicate series");
    expect_bad("# TYPE a gauge\na{x=1} 1\n", "not quoted");
    expect_bad("# TYPE a gauge\na{x=\"\\t\"} 1\n", "bad escape");
    expect_bad("# TYPE a gauge\na one\n", "bad value");
    expect_bad("# TYPE 1a gauge\n", "bad metric name");
    expect_bad("# TYPE a widget\n", "unknown type");
    expect_bad("# HELP a bad \\t escape\n", "bad escape in HELP");
    expect_bad("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
               "not cumulative");
    expect_bad("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n", "!= _count");
    expect_bad("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "+Inf");
    expect_bad("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", "no _sum");
    expect_bad(
        "# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
        "le not increasing");
    expect_ok("# HELP a x\n# TYPE a gauge\na{b=\"c\"} NaN\na{b=\"d\"} +Inf 1700000000000\n");
}

static void test_render_from_registry(void **state)
{
    (void)state;
    setenv("METRICS_ADDR", "off", 1);
    sfp_err err = {0};
    sfp_metrics *m = sfp_metrics_start_from_env("unit", &err);
    assert_non_null(m);
    assert_int_equal(sfp_metrics_port(m), 0);
    size_t len = 0;
    char *text = sfp_metrics_render(m, &len);
    expect_ok(text);
    assert_true(sfp_prom_value(text, "process_resident_memory_bytes", NULL) > 0);
    assert_true(sfp_prom_value(text, "sfp_build_info", "service=\"unit\"") == 1);
    free(text);
    sfp_metrics_stop(m);
    setenv("METRICS_ADDR", "nonsense", 1);
    assert_null(sfp_metrics_start_from_env("unit", &err));
    assert_non_null(strstr(err.msg, "METRICS_ADDR"));
    unsetenv("METRICS_ADDR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writers_produce_valid_text),
        cmocka_unit_test(test_checker_rejects),
        cmocka_unit_test(test_render_from_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
