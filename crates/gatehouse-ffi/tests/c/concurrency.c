/*
 * Many pthreads evaluate through the gatehouse C ABI with distinct users and
 * tokens; every result is checked against the answer computed
 * single-threaded beforehand. Exit status 0 only when every result matched.
 *
 * usage: concurrency SPECS ENTITIES USERS EVENTS_FILE THREADS ITERATIONS
 *   ENTITIES: lines "gate NAME" | "config NAME" | "experiment NAME" |
 *             "layer NAME" | "param LAYER PARAM"
 *   USERS:    one user JSON per line
 *
 * Layers evaluated with exposure logging on go through a layer handle
 * (gatehouse_layer_open: the same JSON), which is then used and released.
 *
 * Alongside the checked evaluations, each thread now and then parses a
 * throwaway user, evaluates with it, releases it and checks the released
 * handle is refused; one extra thread keeps swapping override snapshots
 * (on a gate no entity reads) so evaluations race with updates.
 */
#include "gatehouse.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_GATE, K_CONFIG, K_EXPERIMENT, K_LAYER, K_PARAM };

struct entity {
    enum kind kind;
    char *name;
    char *param; /* K_PARAM only */
};

struct expected {
    int32_t status; /* GATEHOUSE_OK, or GATEHOUSE_NOT_FOUND for a missing param */
    uint8_t gate_value; /* K_GATE: the typed fast path's answer */
    char *json;         /* token member emptied; NULL unless status is OK */
};

static uint64_t g_client;
static uint64_t *g_users;
static size_t g_nusers;
static struct entity *g_entities;
static size_t g_nentities;
static struct expected *g_expected; /* [user * g_nentities + entity] */
static long g_iterations;
static atomic_long g_failures;
static atomic_long g_checked;
static atomic_int g_stop_churn;

static void fail(const char *what, size_t u, size_t e, uint64_t token, const char *detail) {
    long n = atomic_fetch_add(&g_failures, 1);
    if (n < 20) {
        fprintf(stderr, "MISMATCH %s: user %zu entity %zu (%s) token %" PRIu64 ": %s\n", what, u, e,
                g_entities[e].name, token, detail ? detail : "");
    }
}

static void die(const char *what, int32_t status, const uint8_t *msg, size_t msg_len) {
    fprintf(stderr, "%s failed: status %d: %.*s\n", what, status, (int)msg_len, (const char *)msg);
    exit(2);
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Split text into lines in place; returns the count. */
static size_t lines(char *text, char ***out) {
    size_t cap = 64, n = 0;
    char **v = malloc(cap * sizeof *v);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (!*line) continue;
        if (n == cap) v = realloc(v, (cap *= 2) * sizeof *v);
        v[n++] = line;
    }
    *out = v;
    return n;
}

/* A growable per-thread output buffer, deliberately small at first so the
 * BUFFER_TOO_SMALL + retry path runs under concurrency too. */
struct buf {
    uint8_t *data;
    size_t cap;
};

/* One JSON evaluation with retry on BUFFER_TOO_SMALL. On OK, *len is the
 * JSON length and *token_out the echoed token. */
static int32_t eval_json(const struct entity *en, uint64_t user, uint32_t flags, uint64_t token,
                         struct buf *b, size_t *len, uint64_t *token_out) {
    for (;;) {
        int32_t st;
        const uint8_t *name = (const uint8_t *)en->name;
        size_t nlen = strlen(en->name);
        switch (en->kind) {
        case K_GATE:
            st = gatehouse_get_feature_gate(g_client, user, name, nlen, flags, token, b->data, b->cap,
                                            len, token_out);
            break;
        case K_CONFIG:
            st = gatehouse_get_dynamic_config(g_client, user, name, nlen, flags, token, b->data,
                                              b->cap, len, token_out);
            break;
        case K_EXPERIMENT:
            st = gatehouse_get_experiment(g_client, user, name, nlen, flags, token, b->data, b->cap,
                                          len, token_out);
            break;
        case K_LAYER: {
            if (flags & GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING) {
                st = gatehouse_get_layer(g_client, user, name, nlen, flags, token, b->data, b->cap,
                                         len, token_out);
                break;
            }
            /* With logging on: a layer handle (same JSON), used and released. */
            uint64_t layer = 0;
            st = gatehouse_layer_open(g_client, user, name, nlen, flags, token, &layer, b->data,
                                      b->cap, len, token_out);
            if (st == GATEHOUSE_OK) {
                const char *missing = "no_such_parameter";
                if (gatehouse_layer_log_param(layer, (const uint8_t *)missing, strlen(missing)) !=
                        GATEHOUSE_NOT_FOUND ||
                    gatehouse_layer_release(layer) != GATEHOUSE_OK ||
                    gatehouse_layer_release(layer) != GATEHOUSE_INVALID_HANDLE)
                    return -3;
            } else if (layer != 0) {
                return -4; /* no handle is issued unless OK */
            }
            break;
        }
        default:
            st = gatehouse_layer_get_param(g_client, user, name, nlen, (const uint8_t *)en->param,
                                           strlen(en->param), flags, token, b->data, b->cap, len,
                                           token_out);
            break;
        }
        if (st != GATEHOUSE_BUFFER_TOO_SMALL) return st;
        if (*len <= b->cap) return -1; /* the needed length must exceed the capacity */
        free(b->data);
        b->cap = *len;
        b->data = malloc(b->cap);
    }
}

/* The JSON with its token member's value removed; NULL if the member is not
 * exactly "token":"<token>". Caller frees. */
static char *strip_token(const uint8_t *json, size_t len, uint64_t token) {
    char member[64];
    int m = snprintf(member, sizeof member, "\"token\":\"%" PRIu64 "\"", token);
    char *s = malloc(len + 1);
    memcpy(s, json, len);
    s[len] = 0;
    char *at = strstr(s, member);
    if (!at) {
        free(s);
        return NULL;
    }
    size_t digits = (size_t)m - strlen("\"token\":\"\"");
    char *value = at + strlen("\"token\":\"");
    memmove(value, value + digits, strlen(value + digits) + 1);
    return s;
}

static void compute_expected(void) {
    struct buf b = {malloc(64), 64};
    g_expected = calloc(g_nusers * g_nentities, sizeof *g_expected);
    for (size_t u = 0; u < g_nusers; u++) {
        for (size_t e = 0; e < g_nentities; e++) {
            struct expected *x = &g_expected[u * g_nentities + e];
            uint64_t token = 0xE000000000000000ull | (u << 20) | e, token_out = 0;
            size_t len = 0;
            x->status = eval_json(&g_entities[e], g_users[u], GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING,
                                  token, &b, &len, &token_out);
            if (x->status == GATEHOUSE_OK) {
                x->json = strip_token(b.data, len, token);
                if (!x->json || token_out != token) {
                    fprintf(stderr, "single-threaded result lacks its token\n");
                    exit(2);
                }
            } else if (!(x->status == GATEHOUSE_NOT_FOUND && g_entities[e].kind == K_PARAM)) {
                fprintf(stderr, "single-threaded evaluation failed: %d\n", x->status);
                exit(2);
            }
            if (g_entities[e].kind == K_GATE) {
                gatehouse_gate_result r = {0, 0};
                int32_t st = gatehouse_check_gate(g_client, g_users[u], (const uint8_t *)g_entities[e].name,
                                                  strlen(g_entities[e].name),
                                                  GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING, token, &r);
                if (st != GATEHOUSE_OK || r.token != token) {
                    fprintf(stderr, "single-threaded check_gate failed: %d\n", st);
                    exit(2);
                }
                x->gate_value = r.value;
            }
        }
    }
    free(b.data);
}

static uint64_t next_rand(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void check_one(size_t u, size_t e, uint64_t user, uint64_t token, uint32_t flags, struct buf *b) {
    const struct expected *x = &g_expected[u * g_nentities + e];
    const struct entity *en = &g_entities[e];
    if (en->kind == K_GATE && (token & 1)) {
        gatehouse_gate_result r = {0, 2};
        int32_t st = gatehouse_check_gate(g_client, user, (const uint8_t *)en->name, strlen(en->name),
                                          flags, token, &r);
        if (st != GATEHOUSE_OK) fail("check_gate status", u, e, token, NULL);
        else if (r.token != token) fail("check_gate token", u, e, token, NULL);
        else if (r.value != x->gate_value) fail("check_gate value", u, e, token, NULL);
        atomic_fetch_add(&g_checked, 1);
        return;
    }
    size_t len = 0;
    uint64_t token_out = ~token;
    int32_t st = eval_json(en, user, flags, token, b, &len, &token_out);
    if (st != x->status) {
        fail("status", u, e, token, NULL);
    } else if (st == GATEHOUSE_OK) {
        char *got = strip_token(b->data, len, token);
        if (token_out != token) fail("token_out", u, e, token, NULL);
        else if (!got) fail("token in JSON", u, e, token, NULL);
        else if (strcmp(got, x->json) != 0) fail("JSON", u, e, token, got);
        free(got);
    }
    atomic_fetch_add(&g_checked, 1);
}

struct worker {
    pthread_t thread;
    size_t index;
    char **user_json;
};

static void *run_worker(void *arg) {
    struct worker *w = arg;
    uint64_t seed = 0x9E3779B97F4A7C15ull ^ ((uint64_t)(w->index + 1) * 0xBF58476D1CE4E5B9ull);
    struct buf b = {malloc(32), 32};
    for (long i = 0; i < g_iterations; i++) {
        uint64_t r = next_rand(&seed);
        size_t u = (size_t)(r % g_nusers);
        size_t e = (size_t)((r >> 20) % g_nentities);
        /* Distinct per thread and call; bit 0 picks the gate fast path. */
        uint64_t token = ((uint64_t)(w->index + 1) << 48) | ((uint64_t)i << 8) | (r & 0xFF);
        uint32_t flags = (r >> 40) & 1 ? GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING : 0;
        if ((r >> 44) % 16 == 0) {
            /* A throwaway handle for the same user: parse, use, release,
             * then the released handle must be refused. */
            uint64_t tmp = 0;
            const char *j = w->user_json[u];
            int32_t st = gatehouse_user_new((const uint8_t *)j, strlen(j), &tmp, NULL, 0, NULL);
            if (st != GATEHOUSE_OK) {
                fail("user_new", u, e, token, NULL);
                continue;
            }
            check_one(u, e, tmp, token, flags, &b);
            if (gatehouse_user_release(tmp) != GATEHOUSE_OK) fail("user_release", u, e, token, NULL);
            gatehouse_gate_result gr;
            if (gatehouse_check_gate(g_client, tmp, (const uint8_t *)"x", 1, 0, token, &gr) !=
                GATEHOUSE_INVALID_HANDLE)
                fail("stale handle accepted", u, e, token, NULL);
        } else {
            check_one(u, e, g_users[u], token, flags, &b);
        }
    }
    free(b.data);
    return NULL;
}

static void *run_churn(void *arg) {
    (void)arg;
    static const char name[] = "__ffi_churn_gate";
    for (unsigned i = 0; !atomic_load(&g_stop_churn); i++) {
        int32_t st = (i % 3 == 2) ? gatehouse_remove_all_overrides(g_client)
                                  : gatehouse_override_gate(g_client, (const uint8_t *)name,
                                                            sizeof name - 1, (uint8_t)(i & 1), NULL, 0);
        if (st != GATEHOUSE_OK) {
            atomic_fetch_add(&g_failures, 1);
            fprintf(stderr, "override churn failed: %d\n", st);
            break;
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: %s SPECS ENTITIES USERS EVENTS_FILE THREADS ITERATIONS\n", argv[0]);
        return 2;
    }
    if (gatehouse_abi_version() != GATEHOUSE_ABI_VERSION) {
        fprintf(stderr, "ABI mismatch: library %u, header %u\n", gatehouse_abi_version(),
                (unsigned)GATEHOUSE_ABI_VERSION);
        return 2;
    }
    size_t nthreads = (size_t)atol(argv[5]);
    g_iterations = atol(argv[6]);
    uint8_t err[512];
    size_t err_len = 0;

    char options[4096];
    int n = snprintf(options, sizeof options,
                     "{\"specs_file\":\"%s\",\"sync_interval_ms\":0,"
                     "\"events\":{\"file\":\"%s\",\"batch_size\":100,\"flush_interval_ms\":20}}",
                     argv[1], argv[4]);
    int32_t st = gatehouse_client_new((const uint8_t *)options, (size_t)n, &g_client, err, sizeof err,
                                      &err_len);
    if (st != GATEHOUSE_OK) die("client_new", st, err, err_len < sizeof err ? err_len : sizeof err);
    st = gatehouse_client_initialize(g_client, err, sizeof err, &err_len);
    if (st != GATEHOUSE_OK) die("initialize", st, err, err_len < sizeof err ? err_len : sizeof err);

    char *entity_text = read_file(argv[2]);
    char **entity_lines;
    g_nentities = lines(entity_text, &entity_lines);
    g_entities = calloc(g_nentities, sizeof *g_entities);
    for (size_t i = 0; i < g_nentities; i++) {
        char *kind = strtok(entity_lines[i], " ");
        char *name = strtok(NULL, " ");
        char *param = strtok(NULL, " ");
        struct entity *en = &g_entities[i];
        en->name = name;
        en->param = param;
        if (!strcmp(kind, "gate")) en->kind = K_GATE;
        else if (!strcmp(kind, "config")) en->kind = K_CONFIG;
        else if (!strcmp(kind, "experiment")) en->kind = K_EXPERIMENT;
        else if (!strcmp(kind, "layer")) en->kind = K_LAYER;
        else en->kind = K_PARAM;
    }

    char *user_text = read_file(argv[3]);
    char **user_lines;
    g_nusers = lines(user_text, &user_lines);
    g_users = calloc(g_nusers, sizeof *g_users);
    for (size_t i = 0; i < g_nusers; i++) {
        st = gatehouse_user_new((const uint8_t *)user_lines[i], strlen(user_lines[i]), &g_users[i], err,
                                sizeof err, &err_len);
        if (st != GATEHOUSE_OK) die("user_new", st, err, err_len < sizeof err ? err_len : sizeof err);
    }

    compute_expected();

    pthread_t churn;
    pthread_create(&churn, NULL, run_churn, NULL);
    struct worker *workers = calloc(nthreads, sizeof *workers);
    for (size_t i = 0; i < nthreads; i++) {
        workers[i].index = i;
        workers[i].user_json = user_lines;
        if (pthread_create(&workers[i].thread, NULL, run_worker, &workers[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 2;
        }
    }
    for (size_t i = 0; i < nthreads; i++) pthread_join(workers[i].thread, NULL);
    atomic_store(&g_stop_churn, 1);
    pthread_join(churn, NULL);

    st = gatehouse_client_shutdown(g_client, 10000, err, sizeof err, &err_len);
    if (st != GATEHOUSE_OK) die("shutdown", st, err, err_len < sizeof err ? err_len : sizeof err);

    uint8_t counters[4096];
    size_t counters_len = 0;
    if (gatehouse_client_counters(g_client, counters, sizeof counters, &counters_len) == GATEHOUSE_OK)
        printf("counters: %.*s\n", (int)counters_len, (const char *)counters);

    for (size_t i = 0; i < g_nusers; i++) {
        if (gatehouse_user_release(g_users[i]) != GATEHOUSE_OK) {
            fprintf(stderr, "user_release failed\n");
            return 1;
        }
    }
    if (gatehouse_client_release(g_client) != GATEHOUSE_OK ||
        gatehouse_client_release(g_client) != GATEHOUSE_INVALID_HANDLE) {
        fprintf(stderr, "client release / double release misbehaved\n");
        return 1;
    }

    long failures = atomic_load(&g_failures);
    printf("threads %zu, checked %ld results, %ld mismatches\n", nthreads, atomic_load(&g_checked),
           failures);

    for (size_t i = 0; i < g_nusers * g_nentities; i++) free(g_expected[i].json);
    free(g_expected);
    free(workers);
    free(g_users);
    free(g_entities);
    free(entity_lines);
    free(user_lines);
    free(entity_text);
    free(user_text);
    return failures == 0 ? 0 : 1;
}
