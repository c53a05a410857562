/*
 * libFuzzer target for the SyncML XML decoder: the round trip of
 * syncml_round_trip.h in XML.
 */
#include "syncml_round_trip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return syncml_round_trip("syncml_xml_fuzz", SEAM_SYNCML_XML, data, size);
}
