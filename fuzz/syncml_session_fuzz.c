/*
 * libFuzzer target for the OMA DS server engine: a real client's Pkg1 opens
 * a session on an in-memory store (tests/syncml/memstore.h), then the input
 * comes as the client's next message (WBXML when its first byte is a control
 * byte, as a WBXML version byte is; XML otherwise). Whatever it holds, the
 * engine must not crash, and when it fails the session the store must be
 * exactly as before (X6: nothing half-applied).
 */
#include <stdio.h>
#include <stdlib.h>

#include "syncml/memstore.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "syncml_session_fuzz: check failed: %s (line %d)\n", #cond, __LINE__); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static memstore client, server;
    ms_init(&client, 'L');
    ms_init(&server, 'G');
    ms_put(&client, "L1", "name: purse\n");
    ms_put(&server, "G1", "name: loyalty\n");
    seam_syncml_format format = size && data[0] < 0x20 ? SEAM_SYNCML_WBXML : SEAM_SYNCML_XML;
    seam_syncml_config ccfg = {.db = "./apps",
                               .device_id = "seam-t-1",
                               .server_uri = "http://s/",
                               .type = SEAM_SYNCML_TWO_WAY,
                               .format = format};
    seam_syncml_config scfg = {.db = "./apps", .device_id = "http://s/", .format = format};
    seam_syncml_store cs = ms_store(&client), ss = ms_store(&server);
    seam_syncml_client *c = seam_syncml_client_new(&cs, &ccfg);
    seam_syncml_server *s = seam_syncml_server_new(&ss, &scfg);
    CHECK(c && s);
    uint8_t *pkg1 = NULL, *out = NULL;
    size_t pkg1_len = 0, out_len = 0;
    CHECK(seam_syncml_client_start(c, &pkg1, &pkg1_len) == SEAM_SYNCML_CONTINUE);
    CHECK(seam_syncml_server_step(s, pkg1, pkg1_len, &out, &out_len) == SEAM_SYNCML_CONTINUE);
    seam_syncml_bytes_free(out);
    out = NULL;
    uint64_t before = ms_digest(&server);
    seam_syncml_state state = seam_syncml_server_step(s, data, size, &out, &out_len);
    if (state == SEAM_SYNCML_FAILED)
        CHECK(ms_digest(&server) == before && !server.in_session);
    seam_syncml_bytes_free(out);
    seam_syncml_bytes_free(pkg1);
    seam_syncml_server_free(s);
    seam_syncml_client_free(c);
    CHECK(!server.in_session && !client.in_session);
    if (state != SEAM_SYNCML_DONE) /* an unfinished session leaves nothing behind */
        CHECK(ms_digest(&server) == before);
    return 0;
}
