/*
 * Fuzz target: arbitrary bytes as the content of a "name" custom section,
 * looked up for a few function indices (the first four bytes choose one; 0 and
 * a large one too). The decoder must never read outside its input nor return a
 * name that does not lie inside it; every error is an acceptable outcome.
 */
#include <stddef.h>
#include <stdint.h>

#include "seam/wasm.h"

static void lookup(const uint8_t *data, size_t size, uint32_t index) {
    seam_wasm_name name = {0};
    if (seam_wasm_name_section_func(data, size, index, &name) != SEAM_OK)
        return;
    const uint8_t *bytes = (const uint8_t *)name.bytes;
    if (bytes < data || bytes > data + size || name.len > (size_t)(data + size - bytes))
        __builtin_trap(); /* a name outside the input */
    char text[64];
    seam_wasm_name_print(text, sizeof text, name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint32_t index = 0;
    for (size_t i = 0; i < 4 && i < size; i++)
        index |= (uint32_t)data[i] << (8 * i);
    lookup(data, size, 0);
    lookup(data, size, index & 0xFFu);
    lookup(data, size, index);
    return 0;
}
