/*
 * libFuzzer target for the SyncML WBXML decoder: the round trip of
 * syncml_round_trip.h in WBXML.
 */
#include "syncml_round_trip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return syncml_round_trip("syncml_wbxml_fuzz", SEAM_SYNCML_WBXML, data, size);
}
