/*
 * The server folder's TLS key and self-signed certificate (internal to the
 * server layer; docs/server.md "TLS").
 */
#ifndef SEAM_SERVER_TLS_H
#define SEAM_SERVER_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "seam/errors.h"

#define SEAM_SRV_TLS_KEY  "tls.key" /* P-256 ECDSA, PKCS#8 PEM, mode 0600 */
#define SEAM_SRV_TLS_CERT "tls.crt" /* self-signed X.509 v3, PEM */

/* The GnuTLS priorities the server's TLS is served with: TLS 1.3 and 1.2 only, AEAD ciphers,
   ECDHE key exchange (docs/server.md "TLS"). */
#define SEAM_SRV_TLS_PRIORITIES                                                                    \
    "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"         \
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA"

/* True when name may be a subjectAltName entry: an IPv4 or IPv6 address, or a DNS name
   (letters, digits, '-', '.', an optional leading "*."), at most 253 characters. */
bool seam_srv_tls_name_ok(const char *name);

/* Creates DIR/tls.key (a fresh P-256 key, 0600) and DIR/tls.crt (self-signed, SAN: localhost,
   127.0.0.1 and names[0..count), CN names[0] or localhost). Neither is overwritten:
   SEAM_ERR_SERVER_TLS_EXISTS when either exists (or is a link); SEAM_ERR_ARG for a bad name. */
seam_err seam_srv_tls_create(const char *dir, const char *const *names, size_t count);

/* Reads DIR/tls.key and DIR/tls.crt as malloc'd PEM strings (seam_srv_tls_free them).
   SEAM_ERR_SERVER_TLS when one is missing, not a regular file, too large, or the key is
   readable by group or others. */
seam_err seam_srv_tls_load(const char *dir, char **key_pem, char **cert_pem);

/* True when DIR/tls.key or DIR/tls.crt exists (as any kind of file). */
bool seam_srv_tls_present(const char *dir);

/* Wipes and frees what seam_srv_tls_load gave; sets both to NULL. */
void seam_srv_tls_free(char **key_pem, char **cert_pem);

#endif
