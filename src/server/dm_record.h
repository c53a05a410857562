/*
 * The text of a device-management record as the server keeps it (internal to the server
 * layer; docs/sync.md "Databases", docs/server.md "Device databases"): UTF-8 without NUL
 * bytes, one `field: value` per line (LF or CRLF). `./apps` records carry `kind`,
 * `name`, `version`, `size` (and, for a card applet, optionally `package`); a `./devinfo`
 * record's first line is the parameter's value. Reads only text[0..len); allocates nothing.
 */
#ifndef SEAM_SERVER_DM_RECORD_H
#define SEAM_SERVER_DM_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "seam/errors.h"

/* True when text[0..len) is well-formed UTF-8 (no overlongs, no surrogates, at most
   U+10FFFF) holding no NUL byte. */
bool seam_dm_text_ok(const char *text, size_t len);

/* Copies the value of the first line `name: value` of text[0..len) into value[0..cap)
   (NUL-terminated, blanks around it removed). SEAM_ERR_NOT_FOUND (no such line),
   SEAM_ERR_BUFFER_SMALL (the value does not fit), SEAM_ERR_ARG. */
seam_err seam_dm_field(const char *text, size_t len, const char *name, char *value, size_t cap);

/* Copies the first line of text[0..len) (blanks around it removed) into value[0..cap).
   SEAM_ERR_BUFFER_SMALL, SEAM_ERR_ARG. */
seam_err seam_dm_first_line(const char *text, size_t len, char *value, size_t cap);

#endif
