/*
 * What `seam gp` prints: the trace of every APDU (stderr), the registry
 * listing (text or JSON, with hex strings for every byte value) and the card
 * information.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp_cli.h"

void gp_show_hex(const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        printf("%02X", b[i]);
}

static void hex_to(FILE *to, const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        fprintf(to, "%02X", b[i]);
}

void gp_show_trace(void *ctx, seam_gp_trace_point point, const uint8_t *bytes, size_t len) {
    static const char *const marks[] = {"> ", "=> ", "<= ", "< "};
    (void)ctx;
    fprintf(stderr, "%s", marks[point]);
    hex_to(stderr, bytes, len);
    if (point == SEAM_GP_TRACE_RESPONSE && len >= 2) {
        uint16_t sw = (uint16_t)(bytes[len - 2] << 8 | bytes[len - 1]);
        fprintf(stderr, "  (%04X: %s)", sw, seam_gp_sw_text(sw));
    }
    fprintf(stderr, "\n");
}

/* The registry as collected, in the order the card listed it. */
typedef struct {
    size_t count, cap;
    seam_gp_scope *scope;
    seam_gp_status_entry *entry;
} collected;

static seam_err collect(void *ctx, seam_gp_scope scope, const seam_gp_status_entry *e) {
    collected *c = ctx;
    if (c->count == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        seam_gp_scope *s = realloc(c->scope, cap * sizeof *s);
        if (s)
            c->scope = s;
        seam_gp_status_entry *n = s ? realloc(c->entry, cap * sizeof *n) : NULL;
        if (!n)
            return SEAM_ERR_NOMEM;
        c->entry = n;
        c->cap = cap;
    }
    c->scope[c->count] = scope;
    c->entry[c->count++] = *e;
    return SEAM_OK;
}

static bool is_sd(const seam_gp_status_entry *e) {
    return e->privileges_len && (e->privileges[0] & 0x80);
}

static bool is_package(seam_gp_scope scope) {
    return scope == SEAM_GP_ELFS || scope == SEAM_GP_ELFS_MODULES;
}

static const char *space_name(uint8_t space) {
    return space == 1 ? "useful space" : space == 2 ? "temporary useful space" : "";
}

/* The kind of an entry: 0 the ISD, 1 an SD, 2 an application, 3 a package. */
static int kind_of(seam_gp_scope scope, const seam_gp_status_entry *e) {
    return scope == SEAM_GP_ISD ? 0 : is_package(scope) ? 3 : is_sd(e) ? 1 : 2;
}

static void text_entry(seam_gp_scope scope, const seam_gp_status_entry *e) {
    char state[32], priv[400];
    static const char *const kinds[] = {"ISD", "SD", "APP", "PKG"};
    const char *kind = kinds[kind_of(scope, e)];
    printf("%-3s ", kind);
    gp_show_hex(e->aid.bytes, e->aid.len);
    printf("  %s", seam_gp_lifecycle_text(scope, e->lifecycle, state, sizeof state));
    if (is_package(scope)) {
        if (e->has_version)
            printf("  version %u.%u", e->version >> 8, e->version & 0xFF);
        if (e->space)
            printf("  %s", space_name(e->space));
    }
    if (e->privileges_len)
        printf("  privileges %s",
               seam_gp_privileges_text(e->privileges, e->privileges_len, priv, sizeof priv));
    if (e->elf.len) {
        printf("  package ");
        gp_show_hex(e->elf.bytes, e->elf.len);
    }
    if (e->sd.len) {
        printf("  domain ");
        gp_show_hex(e->sd.bytes, e->sd.len);
    }
    printf("\n");
    for (size_t m = 0; m < e->module_count; m++) {
        printf("      module ");
        gp_show_hex(e->modules[m].bytes, e->modules[m].len);
        printf("\n");
    }
}

static void json_hex(const char *name, const uint8_t *b, size_t n, bool comma) {
    printf("\"%s\": \"", name);
    gp_show_hex(b, n);
    printf("\"%s", comma ? ", " : "");
}

static void json_entry(seam_gp_scope scope, const seam_gp_status_entry *e) {
    char state[32];
    printf("{");
    json_hex("aid", e->aid.bytes, e->aid.len, true);
    json_hex("lifecycle", &e->lifecycle, 1, true);
    printf("\"state\": \"%s\"", seam_gp_lifecycle_text(scope, e->lifecycle, state, sizeof state));
    if (e->privileges_len) {
        printf(", ");
        json_hex("privileges", e->privileges, e->privileges_len, false);
    }
    if (e->has_version) {
        uint8_t v[2] = {(uint8_t)(e->version >> 8), (uint8_t)e->version};
        printf(", ");
        json_hex("version", v, 2, false);
    }
    if (e->space) {
        printf(", ");
        json_hex("space", &e->space, 1, false);
    }
    if (e->elf.len) {
        printf(", ");
        json_hex("package", e->elf.bytes, e->elf.len, false);
    }
    if (e->sd.len) {
        printf(", ");
        json_hex("domain", e->sd.bytes, e->sd.len, false);
    }
    if (is_package(scope)) {
        printf(", \"modules\": [");
        for (size_t m = 0; m < e->module_count; m++) {
            printf("%s\"", m ? ", " : "");
            gp_show_hex(e->modules[m].bytes, e->modules[m].len);
            printf("\"");
        }
        printf("]");
    }
    printf("}");
}

/* Prints ,"name": [entries of kind]. */
static void json_group(const collected *c, const char *name, int kind) {
    bool any = false;
    printf(",\n \"%s\": [", name);
    for (size_t i = 0; i < c->count; i++) {
        if (kind_of(c->scope[i], &c->entry[i]) != kind)
            continue;
        printf("%s\n  ", any ? "," : "");
        json_entry(c->scope[i], &c->entry[i]);
        any = true;
    }
    printf("%s]", any ? "\n " : "");
}

int gp_show_list(gp_session *s) {
    collected c = {0};
    uint16_t sw = 0;
    size_t temporary = 0;
    seam_err e = seam_gp_list(s->gp, collect, &c, &sw);
    int status = 0;
    if (e) {
        fprintf(stderr, "seam gp list: %s\n", seam_err_str(e));
        status = 1;
        goto out;
    }
    if (sw != 0x9000) {
        fprintf(stderr, "seam gp list: GET STATUS answered %04X (%s)\n", sw, seam_gp_sw_text(sw));
        status = 1;
    }
    for (size_t i = 0; i < c.count; i++)
        temporary += is_package(c.scope[i]) && c.entry[i].space == 2;
    if (s->o->json) {
        size_t isd = 0;
        while (isd < c.count && c.scope[isd] != SEAM_GP_ISD)
            isd++;
        printf("{\"isd\": ");
        if (isd < c.count)
            json_entry(c.scope[isd], &c.entry[isd]);
        else
            printf("null");
        json_group(&c, "security_domains", 1);
        json_group(&c, "applications", 2);
        json_group(&c, "packages", 3);
        printf("}\n");
    } else {
        for (size_t i = 0; i < c.count; i++)
            text_entry(c.scope[i], &c.entry[i]);
        if (temporary)
            printf("temporary useful space: %zu package%s (an upgrade is under way)\n", temporary,
                   temporary == 1 ? "" : "s");
    }
out:
    free(c.scope);
    free(c.entry);
    return status;
}

int gp_show_info(gp_session *s) {
    static const struct {
        uint16_t tag;
        const char *name;
    } objects[] = {{0x0066, "card data"}, {0x9F7F, "CPLC"}, {0x00E0, "key information"},
                   {0x0042, "IIN"},       {0x0045, "CIN"},  {0x00C1, "sequence counter"}};
    if (s->o->json) {
        printf("{");
        json_hex("atr", s->atr, s->atr_len, false);
    } else {
        printf("ATR ");
        gp_show_hex(s->atr, s->atr_len);
        printf("\n");
    }
    for (size_t i = 0; i < sizeof objects / sizeof objects[0]; i++) {
        uint8_t cmd[5] = {0x80, 0xCA, (uint8_t)(objects[i].tag >> 8), (uint8_t)objects[i].tag, 0};
        const uint8_t *data;
        size_t len = 0;
        uint16_t sw = 0;
        seam_err e = seam_gp_transmit(s->gp, cmd, sizeof cmd, NULL, 0, NULL, &sw);
        if (e) {
            fprintf(stderr, "seam gp info: %s\n", seam_err_str(e));
            return 1;
        }
        data = seam_gp_response(s->gp, &len);
        if (s->o->json) {
            char name[32];
            snprintf(name, sizeof name, "%04X", objects[i].tag);
            printf(", ");
            if (sw == 0x9000)
                json_hex(name, data, len, false);
            else
                printf("\"%s\": null", name);
        } else if (sw == 0x9000) {
            printf("%s (%04X) ", objects[i].name, objects[i].tag);
            gp_show_hex(data, len);
            printf("\n");
        } else {
            printf("%s (%04X): %04X %s\n", objects[i].name, objects[i].tag, sw,
                   seam_gp_sw_text(sw));
        }
    }
    if (s->o->json)
        printf("}\n");
    return 0;
}
