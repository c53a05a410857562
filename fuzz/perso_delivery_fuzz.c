/*
 * libFuzzer target for the delivery codec (src/perso/delivery.c): what the admin
 * server sends a terminal for a step personalized in the terminal, and the terminal's
 * result, as the terminal and the server decode them. The first byte picks the codec.
 * Every pointer decoded must lie inside the input; what decodes must encode and decode
 * again to the same fields; a refused input leaves the output untouched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam/perso.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "perso_delivery_fuzz: check failed: %s (line %d)\n", #cond, __LINE__); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool inside(const uint8_t *data, size_t size, const uint8_t *p, size_t n) {
    return n == 0 || (p >= data && n <= size && (size_t)(p - data) <= size - n);
}

static bool same(const seam_perso_delivery *a, const seam_perso_delivery *b) {
    if (a->cin_len != b->cin_len || memcmp(a->cin, b->cin, a->cin_len) || a->kind != b->kind ||
        a->module_len != b->module_len || memcmp(a->module, b->module, a->module_len) ||
        a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (a->perso[i].instance.len != b->perso[i].instance.len ||
            memcmp(a->perso[i].instance.bytes, b->perso[i].instance.bytes,
                   a->perso[i].instance.len) ||
            a->perso[i].sealed_len != b->perso[i].sealed_len ||
            memcmp(a->perso[i].sealed, b->perso[i].sealed, a->perso[i].sealed_len))
            return false;
    return true;
}

static void delivery(const uint8_t *data, size_t size) {
    static seam_perso_delivery d, again;
    static uint8_t out[SEAM_PERSO_DELIVERY_MAX];
    size_t n = 0;
    memset(&d, 0xA5, sizeof d);
    seam_err e = seam_perso_delivery_decode(data, size, &d);
    if (e) {
        CHECK(e == SEAM_ERR_MALFORMED || e == SEAM_ERR_TRUNCATED);
        CHECK(d.count == (size_t)0xA5A5A5A5A5A5A5A5u);
        return;
    }
    CHECK(d.cin_len >= 1 && d.cin_len <= SEAM_PERSO_CIN_MAX);
    CHECK(d.kind == SEAM_PERSO_DELIVER_INSTALL || d.kind == SEAM_PERSO_DELIVER_UPDATE);
    CHECK(d.module_len >= 1 && d.module_len <= SEAM_PERSO_DELIVERY_MODULE_MAX);
    CHECK(inside(data, size, d.module, d.module_len));
    CHECK(d.count <= SEAM_PERSO_DELIVERY_INSTANCES);
    CHECK(d.kind == SEAM_PERSO_DELIVER_INSTALL || d.count == 0);
    for (size_t i = 0; i < d.count; i++) {
        CHECK(d.perso[i].sealed_len > SEAM_PERSO_SEAL_OVERHEAD);
        CHECK(inside(data, size, d.perso[i].sealed, d.perso[i].sealed_len));
    }
    CHECK(seam_perso_delivery_encode(&d, out, sizeof out, &n) == SEAM_OK);
    CHECK(n <= size); /* the shortest lengths: never longer than what was read */
    CHECK(seam_perso_delivery_decode(out, n, &again) == SEAM_OK);
    CHECK(same(&d, &again));
}

static void result(const uint8_t *data, size_t size) {
    seam_perso_result r, again;
    uint8_t out[SEAM_PERSO_RESULT_MAX];
    size_t n = 0;
    memset(&r, 0xA5, sizeof r);
    seam_err e = seam_perso_result_decode(data, size, &r);
    if (e) {
        CHECK(e == SEAM_ERR_MALFORMED || e == SEAM_ERR_TRUNCATED);
        CHECK((uint8_t)r.reason[0] == 0xA5);
        return;
    }
    size_t len = strlen(r.reason);
    CHECK(len <= SEAM_PERSO_RESULT_REASON_MAX);
    for (size_t i = 0; i < len; i++)
        CHECK(r.reason[i] >= 0x20 && r.reason[i] <= 0x7E);
    CHECK(seam_perso_result_encode(&r, out, sizeof out, &n) == SEAM_OK);
    CHECK(seam_perso_result_decode(out, n, &again) == SEAM_OK);
    CHECK(again.ok == r.ok && again.sw == r.sw && !strcmp(again.reason, r.reason));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    if (data[0] & 1)
        result(data + 1, size - 1);
    else
        delivery(data + 1, size - 1);
    return 0;
}
