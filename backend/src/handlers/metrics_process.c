#include "handlers/metrics.h"

#include <dirent.h>
#include <h2o/version.h>
#include <hiredis/hiredis.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#define STR2(x) #x
#define STR(x) STR2(x)

/* Open file descriptors of this process (entries of /proc/self/fd, less
 * the one reading it), or -1. */
static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    long n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

void metrics_collect_process(metrics_out_t *o, app_t *app)
{
    long page = sysconf(_SC_PAGESIZE);
    unsigned long vsize_pages = 0, rss_pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        if (fscanf(f, "%lu %lu", &vsize_pages, &rss_pages) != 2)
            vsize_pages = rss_pages = 0;
        fclose(f);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    metrics_family(o, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    metrics_sample(o, "process_resident_memory_bytes", NULL, 0, (double)rss_pages * (double)page);
    metrics_family(o, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
    metrics_sample(o, "process_virtual_memory_bytes", NULL, 0, (double)vsize_pages * (double)page);
    metrics_family(o, "process_open_fds", "gauge", "Number of open file descriptors.");
    metrics_sample(o, "process_open_fds", NULL, 0, (double)open_fds());
    metrics_family(o, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
    metrics_sample(o, "process_max_fds", NULL, 0, rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur);
    metrics_family(o, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
    metrics_sample(o, "process_cpu_seconds_total", NULL, 0, cpu);
    metrics_family(o, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
    metrics_sample(o, "process_start_time_seconds", NULL, 0, (double)app->started_at);
    metrics_family(o, "catalog_build_info", "gauge", "Always 1: the versions this backend was built with.");
    metrics_sample(o, "catalog_build_info",
                   (metrics_label_t[]){{"version", CATALOG_VERSION},
                                       {"h2o", H2O_VERSION},
                                       {"hiredis", STR(HIREDIS_MAJOR) "." STR(HIREDIS_MINOR) "." STR(HIREDIS_PATCH)},
                                       {"libmongoc", MONGOC_VERSION_S}},
                   4, 1);
}

void metrics_collect_ready(metrics_out_t *o, const flow_ready_check_t *redis, const flow_ready_check_t *mongo)
{
    metrics_family(o, "catalog_ready", "gauge", "1 when /health/ready would answer 200 (MongoDB answers; Redis is optional).");
    metrics_sample(o, "catalog_ready", NULL, 0, mongo->ok ? 1 : 0);
    metrics_family(o, "catalog_dependency_up", "gauge", "1 when the dependency answered the readiness check of this scrape.");
    metrics_sample(o, "catalog_dependency_up", (metrics_label_t[]){{"dependency", "redis"}}, 1, redis->ok ? 1 : 0);
    metrics_sample(o, "catalog_dependency_up", (metrics_label_t[]){{"dependency", "mongodb"}}, 1, mongo->ok ? 1 : 0);
    metrics_family(o, "catalog_dependency_check_seconds", "gauge", "How long the dependency's readiness check took.");
    metrics_sample(o, "catalog_dependency_check_seconds", (metrics_label_t[]){{"dependency", "redis"}}, 1,
                   (double)redis->took_us / 1e6);
    metrics_sample(o, "catalog_dependency_check_seconds", (metrics_label_t[]){{"dependency", "mongodb"}}, 1,
                   (double)mongo->took_us / 1e6);
}
