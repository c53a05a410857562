/*
 * The host protocol's codec (docs/flashcard.md "Host protocol"): frames
 * `tag || length (4, big-endian) || value` and the values of the controller's
 * commands and answers. Nothing here allocates; every read is bounded by the
 * input's length.
 */
#include <string.h>

#include "seam/flashcard.h"

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

seam_err seam_flashcard_frame_decode(const uint8_t *in, size_t in_len, seam_flashcard_frame *out,
                                     size_t *used) {
    if (!in || in_len < SEAM_FLASHCARD_HEADER_LEN)
        return SEAM_ERR_TRUNCATED;
    size_t len = be32(in + 1);
    if (len > SEAM_FLASHCARD_VALUE_MAX)
        return SEAM_ERR_FLASHCARD_FRAME;
    if (in_len - SEAM_FLASHCARD_HEADER_LEN < len)
        return SEAM_ERR_TRUNCATED;
    out->tag = in[0];
    out->value = in + SEAM_FLASHCARD_HEADER_LEN;
    out->len = len;
    *used = SEAM_FLASHCARD_HEADER_LEN + len;
    return SEAM_OK;
}

seam_err seam_flashcard_frame_encode(uint8_t tag, const uint8_t *value, size_t len, uint8_t *out,
                                     size_t cap, size_t *out_len) {
    if (len > SEAM_FLASHCARD_VALUE_MAX)
        return SEAM_ERR_FLASHCARD_FRAME;
    *out_len = SEAM_FLASHCARD_HEADER_LEN + len;
    if (cap < *out_len)
        return SEAM_ERR_BUFFER_SMALL;
    if (len)
        memmove(out + SEAM_FLASHCARD_HEADER_LEN, value, len);
    out[0] = tag;
    out[1] = (uint8_t)(len >> 24);
    out[2] = (uint8_t)(len >> 16);
    out[3] = (uint8_t)(len >> 8);
    out[4] = (uint8_t)len;
    return SEAM_OK;
}

seam_err seam_flashcard_store_decode(const uint8_t *value, size_t len, const uint8_t **cin,
                                     size_t *cin_len, const uint8_t **module, size_t *module_len) {
    if (len < 1 || value[0] < 1 || value[0] > SEAM_FLASHCARD_CIN_MAX || len - 1 <= value[0])
        return SEAM_ERR_FLASHCARD_FRAME; /* a CIN of 1..16 bytes, then a module */
    *cin = value + 1;
    *cin_len = value[0];
    *module = value + 1 + value[0];
    *module_len = len - 1 - value[0];
    return SEAM_OK;
}

seam_err seam_flashcard_aid_decode(const uint8_t *value, size_t len, seam_gp_aid *out) {
    if (len < 1 || value[0] < SEAM_GP_AID_MIN || value[0] > SEAM_GP_AID_MAX || len - 1 != value[0])
        return SEAM_ERR_FLASHCARD_FRAME;
    memcpy(out->bytes, value + 1, value[0]);
    out->len = value[0];
    return SEAM_OK;
}

/* Reads one AID (aid_len 5..16 || AID) at value[*pos..len), advancing *pos. */
static bool aid_at(const uint8_t *value, size_t len, size_t *pos, seam_gp_aid *out) {
    if (*pos >= len)
        return false;
    size_t n = value[*pos];
    if (n < SEAM_GP_AID_MIN || n > SEAM_GP_AID_MAX || len - *pos - 1 < n)
        return false;
    memcpy(out->bytes, value + *pos + 1, n);
    out->len = n;
    *pos += 1 + n;
    return true;
}

seam_err seam_flashcard_install_decode(const uint8_t *value, size_t len, seam_gp_aid *package,
                                       seam_perso_data perso[SEAM_FLASHCARD_PERSO_MAX], size_t *n) {
    size_t pos = 0, count = 0;
    seam_gp_aid pkg;
    if (!aid_at(value, len, &pos, &pkg))
        return SEAM_ERR_FLASHCARD_FRAME;
    while (pos < len) {
        seam_perso_data d;
        if (count == SEAM_FLASHCARD_PERSO_MAX || !aid_at(value, len, &pos, &d.instance) ||
            pos >= len || value[pos] == 0 || len - pos - 1 < value[pos])
            return SEAM_ERR_FLASHCARD_FRAME;
        d.len = value[pos];
        d.data = value + pos + 1;
        pos += 1 + d.len;
        perso[count++] = d;
    }
    *package = pkg;
    *n = count;
    return SEAM_OK;
}

seam_err seam_flashcard_restore_decode(const uint8_t *value, size_t len, seam_gp_aid *package,
                                       seam_gp_aid *instance) {
    size_t pos = 0;
    seam_gp_aid pkg, inst;
    if (!aid_at(value, len, &pos, &pkg) || !aid_at(value, len, &pos, &inst) || pos != len)
        return SEAM_ERR_FLASHCARD_FRAME;
    *package = pkg;
    *instance = inst;
    return SEAM_OK;
}

seam_err seam_flashcard_list_next(const uint8_t *value, size_t len, size_t *pos,
                                  seam_flashcard_package *out) {
    if (*pos >= len)
        return SEAM_ERR_NOT_FOUND;
    const uint8_t *p = value + *pos;
    size_t left = len - *pos;
    if (p[0] < SEAM_GP_AID_MIN || p[0] > SEAM_GP_AID_MAX || left < 1u + p[0] + 6u)
        return SEAM_ERR_FLASHCARD_FRAME;
    memcpy(out->aid.bytes, p + 1, p[0]);
    out->aid.len = p[0];
    out->version = (uint16_t)(p[1 + p[0]] << 8 | p[2 + p[0]]);
    out->size = be32(p + 3 + p[0]);
    *pos += 1u + p[0] + 6u;
    return SEAM_OK;
}

seam_err seam_flashcard_status_decode(const uint8_t *value, size_t len,
                                      seam_flashcard_status *out) {
    if (len < 1 || value[0] < 1 || value[0] > SEAM_FLASHCARD_CIN_MAX ||
        len != 1u + value[0] + 1u + 2u + 4u || value[1 + value[0]] > 1)
        return SEAM_ERR_FLASHCARD_FRAME;
    const uint8_t *p = value + 1 + value[0];
    memcpy(out->cin, value + 1, value[0]);
    out->cin_len = value[0];
    out->journal = p[0] == 1;
    out->packages = (uint16_t)(p[1] << 8 | p[2]);
    out->relayed = be32(p + 3);
    return SEAM_OK;
}
