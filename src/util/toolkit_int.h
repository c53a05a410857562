/*
 * Inside the util layer's toolkit codec: the pieces toolkit.c (the messages)
 * and toolkit_sync.c (REQUEST SYNCHRONIZATION and its report) share. Not public.
 */
#ifndef SEAM_UTIL_TOOLKIT_INT_H
#define SEAM_UTIL_TOOLKIT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"
#include "seam/util.h"

/* SEAM_OK when data[0..len) is a sequence of well-formed COMPREHENSION-TLV objects. */
seam_err tk_check_objects(const uint8_t *data, size_t len);

/* Wraps value[0..vlen) in a template (1-byte tag, length 00..7F or 81 80..FF) and copies
   it to out when it fits; else SEAM_ERR_BUFFER_SMALL with *out_len the size needed. */
seam_err tk_emit_template(uint8_t tag, const uint8_t *value, size_t vlen, uint8_t *out, size_t cap,
                          size_t *out_len);

/* seam_ctlv_put into a composition buffer: a message too large is SEAM_ERR_ARG. */
seam_err tk_put(uint16_t tag, bool cr, const void *value, size_t value_len, uint8_t *buf,
                size_t cap, size_t *len);

/* Finds the object tag with a length in [min, max]: absent or another length is
   SEAM_ERR_MALFORMED. */
seam_err tk_require(const uint8_t *data, size_t len, uint16_t tag, size_t min, size_t max,
                    seam_ctlv *obj);

#endif
