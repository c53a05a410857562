/*
 * Package metadata parser (package.h): BER-TLV in the "seam.package" custom
 * section, validated field by field.
 */
#include "package.h"

#include <stdbool.h>
#include <string.h>

#include "seam/util.h"

/* Maps a TLV codec error to the package's error. */
static seam_err tlv_error(seam_err err) {
    return err == SEAM_ERR_TRUNCATED || err == SEAM_ERR_MALFORMED ? SEAM_ERR_CARD_PACKAGE_MALFORMED
                                                                  : err;
}

static bool aid_valid(const seam_tlv *tlv) {
    return tlv->length >= SEAM_PACKAGE_AID_MIN && tlv->length <= SEAM_PACKAGE_AID_MAX;
}

static bool aid_equal(const seam_package_aid *a, const uint8_t *bytes, size_t len) {
    return a->len == len && memcmp(a->bytes, bytes, len) == 0;
}

/* Parses the value of an applet template (61): exactly one 4F. */
static seam_err parse_applet(const seam_tlv *tlv, seam_package_aid *aid) {
    seam_tlv inner;
    seam_err err = SEAM_OK;
    if (!tlv->constructed) {
        err = SEAM_ERR_CARD_PACKAGE_MALFORMED;
        goto done;
    }
    err = tlv_error(seam_tlv_parse(tlv->value, tlv->length, &inner));
    if (err != SEAM_OK) {
        goto done;
    }
    if (inner.tag != SEAM_PACKAGE_TAG_AID || !aid_valid(&inner) ||
        inner.header_len + inner.length != tlv->length) {
        err = SEAM_ERR_CARD_PACKAGE_MALFORMED;
        goto done;
    }
    aid->bytes = inner.value;
    aid->len = inner.length;
done:
    return err;
}

seam_err seam_package_parse(const uint8_t *in, size_t len, seam_package_info *info) {
    seam_package_info parsed;
    seam_tlv_iter iter;
    seam_tlv tlv;
    bool have_aid = false, have_version = false, have_platform = false;
    seam_err err = SEAM_OK;
    if ((in == NULL && len > 0) || info == NULL) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    memset(&parsed, 0, sizeof parsed);
    seam_tlv_iter_init(&iter, in, len);
    while (!seam_tlv_iter_done(&iter)) {
        err = tlv_error(seam_tlv_iter_next(&iter, &tlv));
        if (err != SEAM_OK) {
            goto done;
        }
        switch (tlv.tag) {
        case SEAM_PACKAGE_TAG_AID:
            if (have_aid) {
                err = SEAM_ERR_CARD_PACKAGE_FIELD;
            } else if (!aid_valid(&tlv)) {
                err = SEAM_ERR_CARD_PACKAGE_MALFORMED;
            }
            have_aid = true;
            parsed.aid.bytes = tlv.value;
            parsed.aid.len = tlv.length;
            break;
        case SEAM_PACKAGE_TAG_VERSION:
        case SEAM_PACKAGE_TAG_PLATFORM: {
            bool *have = tlv.tag == SEAM_PACKAGE_TAG_VERSION ? &have_version : &have_platform;
            uint16_t *field =
                tlv.tag == SEAM_PACKAGE_TAG_VERSION ? &parsed.version : &parsed.platform_version;
            if (*have) {
                err = SEAM_ERR_CARD_PACKAGE_FIELD;
            } else if (tlv.length != 2) {
                err = SEAM_ERR_CARD_PACKAGE_MALFORMED;
            } else {
                *field = (uint16_t)((tlv.value[0] << 8) | tlv.value[1]);
            }
            *have = true;
            break;
        }
        case SEAM_PACKAGE_TAG_APPLET: {
            seam_package_aid aid;
            if (parsed.applet_count == SEAM_PACKAGE_MAX_APPLETS) {
                err = SEAM_ERR_CARD_PACKAGE_FIELD;
                break;
            }
            err = parse_applet(&tlv, &aid);
            for (size_t i = 0; err == SEAM_OK && i < parsed.applet_count; i++) {
                if (aid_equal(&parsed.applets[i], aid.bytes, aid.len)) {
                    err = SEAM_ERR_CARD_PACKAGE_FIELD;
                }
            }
            if (err == SEAM_OK) {
                parsed.applets[parsed.applet_count++] = aid;
            }
            break;
        }
        default:
            err = SEAM_ERR_CARD_PACKAGE_MALFORMED;
            break;
        }
        if (err != SEAM_OK) {
            goto done;
        }
    }
    if (!have_aid || !have_version || !have_platform || parsed.applet_count == 0) {
        err = SEAM_ERR_CARD_PACKAGE_FIELD;
        goto done;
    }
    if (parsed.platform_version > SEAM_PLATFORM_VERSION) {
        err = SEAM_ERR_CARD_PLATFORM;
        goto done;
    }
    *info = parsed;
done:
    return err;
}

seam_err seam_package_read(const seam_wasm_module *module, seam_package_info *info) {
    const uint8_t *data = NULL;
    size_t len = 0;
    seam_err err = SEAM_OK;
    if (module == NULL || info == NULL) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    if (seam_wasm_module_custom(module, SEAM_WASM_NAME(SEAM_PACKAGE_SECTION), &data, &len) !=
        SEAM_OK) {
        err = SEAM_ERR_CARD_PACKAGE_MISSING;
        goto done;
    }
    err = seam_package_parse(data, len, info);
done:
    return err;
}

bool seam_package_has_applet(const seam_package_info *info, const uint8_t *aid, size_t len) {
    bool found = false;
    for (size_t i = 0; info != NULL && aid != NULL && i < info->applet_count; i++) {
        found = found || aid_equal(&info->applets[i], aid, len);
    }
    return found;
}
