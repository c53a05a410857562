/*
 * The server folder's TLS material (docs/server.md "TLS"): `tls.key`, a P-256
 * ECDSA key (PKCS#8 PEM, mode 0600), and `tls.crt`, a self-signed X.509 v3
 * certificate for it whose subjectAltName holds localhost, 127.0.0.1 and the
 * names given to `seam server init --tls-name`. Made once with OpenSSL's
 * libcrypto (already the crypto layer's library); libmicrohttpd serves them
 * through GnuTLS. Neither file is ever overwritten.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "seam/util.h"

#define PEM_MAX       (64u * 1024u)
#define VALID_DAYS    3650L
#define SAN_TEXT_MAX  4096u
#define NAME_TEXT_MAX 253u

static seam_err path_of(char *out, size_t cap, const char *dir, const char *name) {
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? SEAM_ERR_ARG : SEAM_OK;
}

bool seam_srv_tls_name_ok(const char *name) {
    size_t n = name ? strlen(name) : 0;
    unsigned char v6[16];
    if (n == 0 || n > NAME_TEXT_MAX)
        return false;
    if (inet_pton(AF_INET6, name, v6) == 1)
        return true;
    /* A DNS name (or a dotted IPv4 address): letters, digits, '-', '.', and a leading
       "*." wildcard label; nothing that could end the SAN list (',') or change its type. */
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || (c == '*' && i == 0 && n > 2 && name[1] == '.');
        if (!ok)
            return false;
    }
    return name[0] != '.' && name[n - 1] != '.';
}

/* Appends ",DNS:name" or ",IP:addr" to san (the list starts with localhost, 127.0.0.1). */
static bool san_add(char *san, size_t cap, const char *name) {
    unsigned char addr[16];
    bool ip = inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
    size_t used = strlen(san);
    int n = snprintf(san + used, cap - used, ",%s:%s", ip ? "IP" : "DNS", name);
    return n > 0 && (size_t)n < cap - used;
}

static bool add_ext(X509 *cert, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    bool ok = ext && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

/* A self-signed certificate for key: CN = the first name, SAN = san, 10 years, SHA-256. */
static X509 *certificate(EVP_PKEY *key, const char *cn, const char *san) {
    X509 *cert = X509_new();
    X509_NAME *name = X509_NAME_new();
    BIGNUM *serial = BN_new();
    bool ok = cert && name && serial && X509_set_version(cert, 2) == 1 &&
              BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
              BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) != NULL &&
              X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != NULL &&
              X509_time_adj_ex(X509_getm_notAfter(cert), VALID_DAYS, 0, NULL) != NULL &&
              X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"seam", -1,
                                         -1, 0) == 1 &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
                                         -1, 0) == 1 &&
              X509_set_subject_name(cert, name) == 1 && X509_set_issuer_name(cert, name) == 1 &&
              X509_set_pubkey(cert, key) == 1 &&
              /* Its own trust anchor, pinned by the terminal's --cacert: a CA certificate
                 that may sign only itself (pathlen 0) and serves TLS. */
              add_ext(cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
              add_ext(cert, NID_key_usage, "critical,digitalSignature,keyCertSign") &&
              add_ext(cert, NID_ext_key_usage, "serverAuth") &&
              add_ext(cert, NID_subject_key_identifier, "hash") &&
              add_ext(cert, NID_subject_alt_name, san) && X509_sign(cert, key, EVP_sha256()) > 0;
    BN_free(serial);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

/* The PEM text of key (PKCS#8, not encrypted) or of cert, malloc'd in *out. */
static seam_err pem_text(EVP_PKEY *key, X509 *cert, char **out, size_t *len) {
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    seam_err e = SEAM_ERR_NOMEM;
    if (bio && (key ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)
                    : PEM_write_bio_X509(bio, cert)) == 1) {
        long n = BIO_get_mem_data(bio, &data);
        *out = n > 0 ? malloc((size_t)n) : NULL;
        if (*out) {
            memcpy(*out, data, (size_t)n);
            *len = (size_t)n;
            e = SEAM_OK;
        }
    }
    BIO_free(bio);
    return e;
}

/* Creates path (O_EXCL, O_NOFOLLOW: never over an existing file or through a link) with
   mode and text, synced; removes it when it cannot be written whole. */
static seam_err write_new(const char *path, mode_t mode, const char *text, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return errno == EEXIST || errno == ELOOP ? SEAM_ERR_SERVER_TLS_EXISTS : SEAM_ERR_IO;
    bool ok = fchmod(fd, mode) == 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    close(fd);
    if (!ok) {
        unlink(path);
        return SEAM_ERR_IO;
    }
    return SEAM_OK;
}

seam_err seam_srv_tls_create(const char *dir, const char *const *names, size_t count) {
    char key_path[1024], cert_path[1024], san[SAN_TEXT_MAX] = "DNS:localhost,IP:127.0.0.1";
    if (!dir || (count && !names) || path_of(key_path, sizeof key_path, dir, SEAM_SRV_TLS_KEY) ||
        path_of(cert_path, sizeof cert_path, dir, SEAM_SRV_TLS_CERT))
        return SEAM_ERR_ARG;
    for (size_t i = 0; i < count; i++)
        if (!seam_srv_tls_name_ok(names[i]) || !san_add(san, sizeof san, names[i]))
            return SEAM_ERR_ARG;
    /* Neither file may exist: a key without its certificate (or the reverse) is not
       replaced either. */
    if (seam_srv_tls_present(dir))
        return SEAM_ERR_SERVER_TLS_EXISTS;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = key ? certificate(key, count ? names[0] : "localhost", san) : NULL;
    char *key_pem = NULL, *cert_pem = NULL;
    size_t key_len = 0, cert_len = 0;
    seam_err e = cert ? SEAM_OK : SEAM_ERR_NOMEM;
    if (!e)
        e = pem_text(key, NULL, &key_pem, &key_len);
    if (!e)
        e = pem_text(NULL, cert, &cert_pem, &cert_len);
    if (!e)
        e = write_new(key_path, 0600, key_pem, key_len);
    if (!e) {
        e = write_new(cert_path, 0644, cert_pem, cert_len);
        if (e)
            unlink(key_path);
    }
    if (key_pem)
        seam_secure_zero(key_pem, key_len);
    free(key_pem);
    free(cert_pem);
    X509_free(cert);
    EVP_PKEY_free(key);
    return e;
}

/* Reads path whole into a malloc'd NUL-terminated string; the key must not be readable by
   group or others. */
static seam_err read_pem(const char *path, bool secret, char **out) {
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return SEAM_ERR_SERVER_TLS;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (size_t)st.st_size > PEM_MAX || (secret && (st.st_mode & 077))) {
        close(fd);
        return SEAM_ERR_SERVER_TLS;
    }
    size_t len = (size_t)st.st_size;
    char *text = malloc(len + 1);
    bool ok = text && read(fd, text, len) == (ssize_t)len;
    close(fd);
    if (!ok) {
        if (text)
            seam_secure_zero(text, len);
        free(text);
        return text ? SEAM_ERR_SERVER_TLS : SEAM_ERR_NOMEM;
    }
    text[len] = '\0';
    *out = text;
    return SEAM_OK;
}

/* True when key_pem is a private key and cert_pem a certificate for it (so that a broken
   file is named as such, not as a failure to listen). */
static bool pair_ok(const char *key_pem, const char *cert_pem) {
    BIO *kb = BIO_new_mem_buf(key_pem, -1), *cb = BIO_new_mem_buf(cert_pem, -1);
    EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    X509 *cert = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    bool ok = key && cert && X509_check_private_key(cert, key) == 1;
    X509_free(cert);
    EVP_PKEY_free(key);
    BIO_free(cb);
    BIO_free(kb);
    return ok;
}

seam_err seam_srv_tls_load(const char *dir, char **key_pem, char **cert_pem) {
    char key_path[1024], cert_path[1024];
    if (!dir || !key_pem || !cert_pem ||
        path_of(key_path, sizeof key_path, dir, SEAM_SRV_TLS_KEY) ||
        path_of(cert_path, sizeof cert_path, dir, SEAM_SRV_TLS_CERT))
        return SEAM_ERR_ARG;
    *key_pem = *cert_pem = NULL;
    seam_err e = read_pem(key_path, true, key_pem);
    if (!e)
        e = read_pem(cert_path, false, cert_pem);
    if (!e && !pair_ok(*key_pem, *cert_pem))
        e = SEAM_ERR_SERVER_TLS;
    if (e)
        seam_srv_tls_free(key_pem, cert_pem);
    return e;
}

bool seam_srv_tls_present(const char *dir) {
    char key_path[1024], cert_path[1024];
    struct stat st;
    if (!dir || path_of(key_path, sizeof key_path, dir, SEAM_SRV_TLS_KEY) ||
        path_of(cert_path, sizeof cert_path, dir, SEAM_SRV_TLS_CERT))
        return false;
    return lstat(key_path, &st) == 0 || lstat(cert_path, &st) == 0;
}

void seam_srv_tls_free(char **key_pem, char **cert_pem) {
    if (*key_pem)
        seam_secure_zero(*key_pem, strlen(*key_pem));
    free(*key_pem);
    free(*cert_pem);
    *key_pem = *cert_pem = NULL;
}
