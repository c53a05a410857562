/*
 * Applet runtime (applet_runtime.h): instances, host functions of module
 * "seam" and entry-point calls with per-call fuel and rollback reporting.
 */
#include "applet_runtime.h"
#include "applet_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card/iso/apdu.h"
#include "package.h"
#include "seam/crypto.h"
#include "seam/util.h"

/* ---- guest memory ------------------------------------------------------------ */

/* Traps with a message naming the host function and the bad range (applet_int.h). */
seam_err applet_trap_range(seam_wasm_call_ctx *ctx, const char *fn, uint64_t addr, uint64_t len) {
    char message[120];
    snprintf(message, sizeof message, "seam.%s: range [0x%llx, +%llu) outside linear memory", fn,
             (unsigned long long)addr, (unsigned long long)len);
    seam_wasm_ctx_trap(ctx, SEAM_WASM_TRAP_HOST, 0, message);
    return SEAM_ERR_WASM_TRAP;
}

/* Points *p at guest bytes [addr, addr + len) if they are inside memory. */
bool applet_guest_range(seam_wasm_call_ctx *ctx, uint64_t addr, uint64_t len, uint8_t **p) {
    seam_wasm_memory *memory = seam_wasm_ctx_memory(ctx);
    bool ok = memory != NULL && addr + len <= seam_wasm_memory_size(memory);
    if (ok) {
        *p = seam_wasm_memory_data(memory) + addr;
    }
    return ok;
}

/* Charges the host call's fuel: a base plus one unit per 16 bytes. */
bool applet_charge(seam_wasm_call_ctx *ctx, uint64_t bytes, uint64_t extra) {
    return seam_wasm_ctx_charge(ctx, SEAM_APPLET_FUEL_HOST_CALL +
                                         bytes / SEAM_APPLET_FUEL_PER_BYTES + extra);
}

/* Copies host bytes into the guest at addr (bounds already checked). */
void applet_guest_write(seam_wasm_call_ctx *ctx, uint64_t addr, const void *data, size_t len) {
    seam_wasm_memory *memory = seam_wasm_ctx_memory(ctx);
    if (len > 0) {
        memcpy(seam_wasm_memory_data(memory) + addr, data, len);
        seam_wasm_memory_mark_dirty(memory, addr, len);
    }
}

seam_err applet_answer_bytes(seam_wasm_call_ctx *ctx, const char *fn, uint32_t buf, uint32_t cap,
                             const void *data, size_t len, uint64_t *results) {
    uint8_t *out = NULL;
    if (!applet_charge(ctx, cap, 0))
        return SEAM_ERR_WASM_TRAP;
    if (!applet_guest_range(ctx, buf, cap, &out))
        return applet_trap_range(ctx, fn, buf, cap);
    applet_guest_write(ctx, buf, data, len < cap ? len : cap);
    results[0] = (uint32_t)len;
    return SEAM_OK;
}

/* ---- host functions ------------------------------------------------------------ */

static seam_err host_apdu_command(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                  uint64_t *results) {
    seam_applet *applet = env;
    uint32_t buf = (uint32_t)args[0], cap = (uint32_t)args[1];
    size_t total = SEAM_APDU_HEADER_LEN + applet->command_nc;
    size_t n = cap < total ? cap : total;
    size_t head = n < SEAM_APDU_HEADER_LEN ? n : SEAM_APDU_HEADER_LEN;
    uint8_t *p;
    seam_err err = SEAM_OK;
    if (!applet_charge(ctx, n, 0)) {
        err = SEAM_ERR_WASM_TRAP;
    } else if (!applet_guest_range(ctx, buf, n, &p)) {
        err = applet_trap_range(ctx, "apdu_command", buf, n);
    } else {
        applet_guest_write(ctx, buf, applet->header, head);
        applet_guest_write(ctx, (uint64_t)buf + head, applet->command_data, n - head);
        results[0] = (uint32_t)total;
    }
    return err;
}

static seam_err host_apdu_ne(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                             uint64_t *results) {
    seam_applet *applet = env;
    (void)args;
    results[0] = (uint32_t)applet->command_ne;
    return applet_charge(ctx, 0, 0) ? SEAM_OK : SEAM_ERR_WASM_TRAP;
}

static seam_err host_apdu_send(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                               uint64_t *results) {
    seam_applet *applet = env;
    uint32_t addr = (uint32_t)args[0], len = (uint32_t)args[1];
    uint8_t *p;
    seam_err err = SEAM_OK;
    if (!applet_charge(ctx, len, 0)) {
        err = SEAM_ERR_WASM_TRAP;
    } else if (!applet_guest_range(ctx, addr, len, &p)) {
        err = applet_trap_range(ctx, "apdu_send", addr, len);
    } else if (len > SEAM_APPLET_RESPONSE_MAX - applet->response_len) {
        results[0] = (uint32_t)-1;
    } else {
        memcpy(applet->response + applet->response_len, p, len);
        applet->response_len += len;
        results[0] = 0;
    }
    return err;
}

static seam_err host_install_params(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                    uint64_t *results) {
    seam_applet *applet = env;
    uint32_t buf = (uint32_t)args[0], cap = (uint32_t)args[1];
    size_t n = cap < applet->params_len ? cap : applet->params_len;
    uint8_t *p;
    seam_err err = SEAM_OK;
    if (!applet_charge(ctx, n, 0)) {
        err = SEAM_ERR_WASM_TRAP;
    } else if (!applet_guest_range(ctx, buf, n, &p)) {
        err = applet_trap_range(ctx, "install_params", buf, n);
    } else {
        applet_guest_write(ctx, buf, applet->params, n);
        results[0] = (uint32_t)applet->params_len;
    }
    return err;
}

/* Shared by transient_get and transient_put: checks kind and both ranges. */
static seam_err transient_access(seam_wasm_call_ctx *ctx, seam_applet *applet, const uint64_t *args,
                                 bool put) {
    uint32_t kind = (uint32_t)args[0], offset = (uint32_t)args[1];
    uint32_t addr = (uint32_t)args[2], len = (uint32_t)args[3];
    const char *fn = put ? "transient_put" : "transient_get";
    uint8_t *p;
    seam_err err = SEAM_OK;
    if (!applet_charge(ctx, len, 0)) {
        err = SEAM_ERR_WASM_TRAP;
    } else if (kind >= TRANSIENT_KINDS || (uint64_t)offset + len > SEAM_APPLET_TRANSIENT_SIZE) {
        char message[120];
        snprintf(message, sizeof message,
                 "seam.%s: kind %u range [%u, +%u) outside the transient buffers", fn,
                 (unsigned)kind, (unsigned)offset, (unsigned)len);
        seam_wasm_ctx_trap(ctx, SEAM_WASM_TRAP_HOST, 0, message);
        err = SEAM_ERR_WASM_TRAP;
    } else if (!applet_guest_range(ctx, addr, len, &p)) {
        err = applet_trap_range(ctx, fn, addr, len);
    } else if (put) {
        memcpy(applet->transient[kind] + offset, p, len);
    } else {
        applet_guest_write(ctx, addr, applet->transient[kind] + offset, len);
    }
    return err;
}

static seam_err host_transient_get(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                   uint64_t *results) {
    (void)results;
    return transient_access(ctx, env, args, false);
}

static seam_err host_transient_put(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                   uint64_t *results) {
    (void)results;
    return transient_access(ctx, env, args, true);
}

static seam_err host_random(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                            uint64_t *results) {
    uint32_t addr = (uint32_t)args[0], len = (uint32_t)args[1];
    uint8_t *p;
    seam_err err = SEAM_OK;
    (void)env;
    (void)results;
    if (!applet_charge(ctx, len, 0)) {
        err = SEAM_ERR_WASM_TRAP;
    } else if (!applet_guest_range(ctx, addr, len, &p)) {
        err = applet_trap_range(ctx, "random", addr, len);
    } else if (seam_crypto_random(p, len) != SEAM_OK) {
        seam_wasm_ctx_trap(ctx, SEAM_WASM_TRAP_HOST, 0, "seam.random: no random bytes");
        err = SEAM_ERR_WASM_TRAP;
    } else {
        seam_wasm_memory_mark_dirty(seam_wasm_ctx_memory(ctx), addr, len);
    }
    return err;
}

static seam_err host_sha256(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                            uint64_t *results) {
    uint32_t data = (uint32_t)args[0], len = (uint32_t)args[1], out = (uint32_t)args[2];
    uint8_t digest[SEAM_CRYPTO_SHA256_SIZE];
    uint8_t *p, *q;
    seam_err err = SEAM_OK;
    (void)env;
    (void)results;
    if (!applet_charge(ctx, len, 0)) {
        err = SEAM_ERR_WASM_TRAP;
    } else if (!applet_guest_range(ctx, data, len, &p)) {
        err = applet_trap_range(ctx, "sha256", data, len);
    } else if (!applet_guest_range(ctx, out, sizeof digest, &q)) {
        err = applet_trap_range(ctx, "sha256", out, sizeof digest);
    } else if (seam_crypto_sha256(p, len, digest) != SEAM_OK) {
        seam_wasm_ctx_trap(ctx, SEAM_WASM_TRAP_HOST, 0, "seam.sha256: crypto failure");
        err = SEAM_ERR_WASM_TRAP;
    } else {
        applet_guest_write(ctx, out, digest, sizeof digest);
    }
    return err;
}

static seam_err host_hmac_sha256(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                 uint64_t *results) {
    uint32_t key = (uint32_t)args[0], key_len = (uint32_t)args[1];
    uint32_t data = (uint32_t)args[2], len = (uint32_t)args[3], out = (uint32_t)args[4];
    uint8_t mac[SEAM_CRYPTO_HMAC_SHA256_SIZE];
    uint8_t *k, *p, *q;
    seam_err err = SEAM_OK;
    (void)env;
    (void)results;
    if (!applet_charge(ctx, (uint64_t)len + key_len, 0)) {
        err = SEAM_ERR_WASM_TRAP;
    } else if (!applet_guest_range(ctx, key, key_len, &k)) {
        err = applet_trap_range(ctx, "hmac_sha256", key, key_len);
    } else if (!applet_guest_range(ctx, data, len, &p)) {
        err = applet_trap_range(ctx, "hmac_sha256", data, len);
    } else if (!applet_guest_range(ctx, out, sizeof mac, &q)) {
        err = applet_trap_range(ctx, "hmac_sha256", out, sizeof mac);
    } else if (seam_crypto_hmac_sha256(k, key_len, p, len, mac) != SEAM_OK) {
        seam_wasm_ctx_trap(ctx, SEAM_WASM_TRAP_HOST, 0, "seam.hmac_sha256: crypto failure");
        err = SEAM_ERR_WASM_TRAP;
    } else {
        applet_guest_write(ctx, out, mac, sizeof mac);
    }
    seam_secure_zero(mac, sizeof mac);
    return err;
}

/* Runs AES over in[0..len) into the host buffer out (len a multiple of 16). */
static seam_err aes_run(uint32_t mode, const uint8_t *key, size_t key_len, const uint8_t *iv,
                        const uint8_t *in, size_t len, uint8_t *out) {
    seam_err err = SEAM_OK;
    if (mode & AES_CBC) {
        err = (mode & AES_DECRYPT) ? seam_crypto_aes_cbc_decrypt(key, key_len, iv, in, len, out)
                                   : seam_crypto_aes_cbc_encrypt(key, key_len, iv, in, len, out);
    } else {
        for (size_t i = 0; i < len && err == SEAM_OK; i += SEAM_CRYPTO_AES_BLOCK_SIZE) {
            err = (mode & AES_DECRYPT) ? seam_crypto_aes_ecb_decrypt(key, key_len, in + i, out + i)
                                       : seam_crypto_aes_ecb_encrypt(key, key_len, in + i, out + i);
        }
    }
    return err;
}

static seam_err host_aes(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                         uint64_t *results) {
    uint32_t mode = (uint32_t)args[0], key = (uint32_t)args[1], key_len = (uint32_t)args[2];
    uint32_t iv = (uint32_t)args[3], in = (uint32_t)args[4], len = (uint32_t)args[5];
    uint32_t out = (uint32_t)args[6];
    uint32_t iv_len = (mode & AES_CBC) ? SEAM_CRYPTO_AES_BLOCK_SIZE : 0;
    uint8_t *k, *v = NULL, *p, *q;
    uint8_t *buffer = NULL;
    seam_err err = SEAM_OK;
    (void)env;
    if (!applet_charge(ctx, len, 0)) {
        err = SEAM_ERR_WASM_TRAP;
    } else if (!applet_guest_range(ctx, key, key_len, &k)) {
        err = applet_trap_range(ctx, "aes", key, key_len);
    } else if (!applet_guest_range(ctx, iv, iv_len, &v)) {
        err = applet_trap_range(ctx, "aes", iv, iv_len);
    } else if (!applet_guest_range(ctx, in, len, &p)) {
        err = applet_trap_range(ctx, "aes", in, len);
    } else if (!applet_guest_range(ctx, out, len, &q)) {
        err = applet_trap_range(ctx, "aes", out, len);
    } else if (mode > (AES_CBC | AES_DECRYPT) || len % SEAM_CRYPTO_AES_BLOCK_SIZE != 0 ||
               (key_len != 16 && key_len != 24 && key_len != 32)) {
        results[0] = (uint32_t)-1;
    } else if (len > 0 && (buffer = malloc(len)) == NULL) {
        seam_wasm_ctx_trap(ctx, SEAM_WASM_TRAP_HOST, 0, "seam.aes: out of host memory");
        err = SEAM_ERR_WASM_TRAP;
    } else if (len > 0 && aes_run(mode, k, key_len, v, p, len, buffer) != SEAM_OK) {
        seam_wasm_ctx_trap(ctx, SEAM_WASM_TRAP_HOST, 0, "seam.aes: crypto failure");
        err = SEAM_ERR_WASM_TRAP;
    } else {
        applet_guest_write(ctx, out, buffer, len);
        results[0] = 0;
    }
    if (buffer != NULL) {
        seam_secure_zero(buffer, len);
        free(buffer);
    }
    return err;
}

static seam_err host_p256_generate(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                   uint64_t *results) {
    uint32_t priv = (uint32_t)args[0], pub = (uint32_t)args[1];
    uint8_t d[SEAM_CRYPTO_P256_PRIVATE_SIZE], q[SEAM_CRYPTO_P256_PUBLIC_SIZE];
    uint8_t *p;
    seam_err err = SEAM_OK;
    (void)env;
    (void)results;
    if (!applet_charge(ctx, 0, SEAM_APPLET_FUEL_P256)) {
        err = SEAM_ERR_WASM_TRAP;
    } else if (!applet_guest_range(ctx, priv, sizeof d, &p)) {
        err = applet_trap_range(ctx, "p256_generate", priv, sizeof d);
    } else if (!applet_guest_range(ctx, pub, sizeof q, &p)) {
        err = applet_trap_range(ctx, "p256_generate", pub, sizeof q);
    } else if (seam_crypto_p256_generate(d, q) != SEAM_OK) {
        seam_wasm_ctx_trap(ctx, SEAM_WASM_TRAP_HOST, 0, "seam.p256_generate: crypto failure");
        err = SEAM_ERR_WASM_TRAP;
    } else {
        applet_guest_write(ctx, priv, d, sizeof d);
        applet_guest_write(ctx, pub, q, sizeof q);
    }
    seam_secure_zero(d, sizeof d);
    return err;
}

static seam_err host_p256_sign(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                               uint64_t *results) {
    uint32_t priv = (uint32_t)args[0], digest = (uint32_t)args[1], sig = (uint32_t)args[2];
    uint8_t signature[SEAM_CRYPTO_P256_SIGNATURE_SIZE];
    uint8_t *d, *h, *s;
    seam_err err = SEAM_OK;
    (void)env;
    if (!applet_charge(ctx, 0, SEAM_APPLET_FUEL_P256)) {
        err = SEAM_ERR_WASM_TRAP;
    } else if (!applet_guest_range(ctx, priv, SEAM_CRYPTO_P256_PRIVATE_SIZE, &d)) {
        err = applet_trap_range(ctx, "p256_sign", priv, SEAM_CRYPTO_P256_PRIVATE_SIZE);
    } else if (!applet_guest_range(ctx, digest, SEAM_CRYPTO_SHA256_SIZE, &h)) {
        err = applet_trap_range(ctx, "p256_sign", digest, SEAM_CRYPTO_SHA256_SIZE);
    } else if (!applet_guest_range(ctx, sig, sizeof signature, &s)) {
        err = applet_trap_range(ctx, "p256_sign", sig, sizeof signature);
    } else if (seam_crypto_p256_sign(d, SEAM_CRYPTO_P256_PRIVATE_SIZE, h, signature) != SEAM_OK) {
        results[0] = (uint32_t)-1;
    } else {
        applet_guest_write(ctx, sig, signature, sizeof signature);
        results[0] = 0;
    }
    return err;
}

static seam_err host_p256_verify(seam_wasm_call_ctx *ctx, void *env, const uint64_t *args,
                                 uint64_t *results) {
    uint32_t pub = (uint32_t)args[0], digest = (uint32_t)args[1], sig = (uint32_t)args[2];
    uint8_t *q, *h, *s;
    seam_err err = SEAM_OK;
    (void)env;
    if (!applet_charge(ctx, 0, SEAM_APPLET_FUEL_P256)) {
        err = SEAM_ERR_WASM_TRAP;
    } else if (!applet_guest_range(ctx, pub, SEAM_CRYPTO_P256_PUBLIC_SIZE, &q)) {
        err = applet_trap_range(ctx, "p256_verify", pub, SEAM_CRYPTO_P256_PUBLIC_SIZE);
    } else if (!applet_guest_range(ctx, digest, SEAM_CRYPTO_SHA256_SIZE, &h)) {
        err = applet_trap_range(ctx, "p256_verify", digest, SEAM_CRYPTO_SHA256_SIZE);
    } else if (!applet_guest_range(ctx, sig, SEAM_CRYPTO_P256_SIGNATURE_SIZE, &s)) {
        err = applet_trap_range(ctx, "p256_verify", sig, SEAM_CRYPTO_P256_SIGNATURE_SIZE);
    } else {
        results[0] = seam_crypto_p256_verify(q, SEAM_CRYPTO_P256_PUBLIC_SIZE, h, s,
                                             SEAM_CRYPTO_P256_SIGNATURE_SIZE) == SEAM_OK
                         ? 1
                         : 0;
    }
    return err;
}

static const struct {
    const char *name;
    const char *signature;
    seam_wasm_host_fn fn;
} host_functions[] = {
    {"apdu_command", "ii->i", host_apdu_command},
    {"apdu_ne", "->i", host_apdu_ne},
    {"apdu_send", "ii->i", host_apdu_send},
    {"install_params", "ii->i", host_install_params},
    {"transient_get", "iiii->", host_transient_get},
    {"transient_put", "iiii->", host_transient_put},
    {"random", "ii->", host_random},
    {"sha256", "iii->", host_sha256},
    {"aes", "iiiiiii->i", host_aes},
    {"hmac_sha256", "iiiii->", host_hmac_sha256},
    {"p256_generate", "ii->", host_p256_generate},
    {"p256_sign", "iii->i", host_p256_sign},
    {"p256_verify", "iii->i", host_p256_verify},
    {"restore_put", "iiii->i", applet_host_restore_put},
    {"restore_get", "iiii->i", applet_host_restore_get},
    {"restore_perso_add", "iii->i", applet_host_restore_perso_add},
    {"upgrade_previous_version", "->i", applet_host_upgrade_previous_version},
    {"personalize_command", "->i", applet_host_personalize_command},
    {"debug", "ii->", applet_host_debug},
    {"toolkit_proactive", "ii->i", applet_host_toolkit_proactive},
    {"toolkit_profile", "ii->i", applet_host_toolkit_profile},
    {"toolkit_message", "ii->i", applet_host_toolkit_message},
    {"toolkit_register", "iii->i", applet_host_toolkit_register},
    {"service_call", "iiii->i", applet_host_service_call},
    {"service_caller", "ii->i", applet_host_service_caller},
    {"registry_entry", "iii->i", applet_host_registry_entry},
};

/* ---- instances ------------------------------------------------------------------ */

/* Finds an optional exported function with n_params = 0 and the given result
 * count; SEAM_ERR_CARD_APPLET when it exists with another type. */
static seam_err find_entry(seam_wasm_instance *instance, const char *name, uint32_t results,
                           bool required, seam_wasm_func **out, char *why, size_t why_size) {
    seam_wasm_extern ext;
    seam_err err = SEAM_OK;
    *out = NULL;
    if (seam_wasm_instance_export(instance, seam_wasm_name_of(name), &ext) != SEAM_OK) {
        err = required ? SEAM_ERR_CARD_APPLET : SEAM_OK;
        if (err)
            snprintf(why, why_size, "no export '%s'", name);
        goto done;
    }
    if (ext.kind != SEAM_WASM_EXTERN_FUNC || seam_wasm_func_param_count(ext.as.func) != 0 ||
        seam_wasm_func_result_count(ext.as.func) != results ||
        (results == 1 && seam_wasm_func_result_type(ext.as.func, 0) != SEAM_WASM_I32)) {
        err = SEAM_ERR_CARD_APPLET;
        snprintf(why, why_size, "export '%s' is not a function %s", name,
                 results ? "() -> i32" : "() -> ()");
        goto done;
    }
    *out = ext.as.func;
done:
    return err;
}

/* The entry points an applet may export (docs/applet-abi.md), where they go. */
static const struct {
    const char *name;
    uint32_t results; /* 1: returns its status word; 0: nothing */
    bool required;
    size_t offset; /* of its seam_wasm_func * in struct seam_applet */
} entry_points[] = {
    {"process", 1, true, offsetof(seam_applet, process)},
    {"install", 1, false, offsetof(seam_applet, install)},
    {"select", 1, false, offsetof(seam_applet, select)},
    {"deselect", 0, false, offsetof(seam_applet, deselect)},
    {"personalize", 1, false, offsetof(seam_applet, personalize)},
    {"save_for_upgrade", 1, false, offsetof(seam_applet, save_for_upgrade)},
    {"restore_after_upgrade", 1, false, offsetof(seam_applet, restore_after_upgrade)},
    {"terminal_response", 1, false, offsetof(seam_applet, toolkit_entry[0])},
    {"menu_selection", 1, false, offsetof(seam_applet, toolkit_entry[1])},
    {"event_download", 1, false, offsetof(seam_applet, toolkit_entry[2])},
    {"timer_expiration", 1, false, offsetof(seam_applet, toolkit_entry[3])},
    {"service", 1, false, offsetof(seam_applet, toolkit_entry[4])},
};

/* Reads the stack end from the exported i32 global __global_base (0 when
 * absent: nothing is treated as stack). */
static uint32_t find_stack_end(seam_wasm_instance *instance, seam_wasm_memory *memory) {
    seam_wasm_extern ext;
    uint32_t end = 0;
    if (seam_wasm_instance_export(instance, SEAM_WASM_NAME("__global_base"), &ext) == SEAM_OK &&
        ext.kind == SEAM_WASM_EXTERN_GLOBAL) {
        seam_wasm_value value = seam_wasm_global_get(ext.as.global);
        if (value.type == SEAM_WASM_I32 && value.bits <= seam_wasm_memory_size(memory)) {
            end = (uint32_t)value.bits;
        }
    }
    return end;
}

/* Makes a new store and instance (fresh, or from image) into applet; on error
 * the applet has no store, why[0..why_size) says why and, unless checking, the
 * applet's diagnostics are told. */
static seam_err instantiate(seam_applet *applet, const uint8_t *image, uint32_t pages, char *why,
                            size_t why_size) {
    seam_wasm_limits limits = {
        .max_memory_pages = SEAM_APPLET_MAX_PAGES,
        .max_table_size = SEAM_APPLET_MAX_TABLE,
        .max_table_entries = SEAM_APPLET_MAX_TABLE, /* all tables together */
        .max_call_depth = SEAM_APPLET_CALL_DEPTH,
        .value_stack_slots = SEAM_APPLET_STACK_SLOTS,
    };
    seam_wasm_instance_options options = {.memory_image = image,
                                          .memory_image_pages = pages,
                                          .skip_start = image != NULL || applet->checking ||
                                                        applet->fresh_memory};
    seam_wasm_imports *imports = NULL;
    seam_wasm_trap trap = {0};
    char text[160] = "";
    seam_err err;
    seam_wasm_store_free(applet->store);
    applet->store = NULL;
    applet->instance = NULL;
    applet->memory = NULL;
    err = seam_wasm_store_new(&limits, &applet->store);
    if (err == SEAM_OK) {
        err = seam_wasm_imports_new(&imports);
    }
    for (size_t i = 0; err == SEAM_OK && i < sizeof host_functions / sizeof host_functions[0];
         i++) {
        err = seam_wasm_imports_add_host(imports, applet->store, SEAM_WASM_NAME("seam"),
                                         seam_wasm_name_of(host_functions[i].name),
                                         host_functions[i].signature, host_functions[i].fn, applet);
    }
    if (err == SEAM_OK) {
        seam_wasm_store_set_fuel(applet->store, applet->fuel);
        err = seam_wasm_instantiate(applet->store, applet->module, imports, &options,
                                    &applet->instance, &trap, text, sizeof text);
        if (err != SEAM_OK && !applet->checking)
            applet_diag_instantiate_failed(applet, err, text, &trap);
        if (err == SEAM_ERR_WASM_LIMIT && image != NULL) {
            err = SEAM_ERR_CARD_IMAGE;
        } else if (err == SEAM_ERR_WASM_TRAP) {
            err = SEAM_ERR_CARD_APPLET; /* a start function or segment failed */
        }
    }
    if (err == SEAM_OK) {
        applet->memory = seam_wasm_instance_memory(applet->instance);
        err = applet->memory == NULL ? SEAM_ERR_CARD_APPLET : SEAM_OK;
        if (err)
            snprintf(text, sizeof text, "no memory");
    }
    for (size_t i = 0; err == SEAM_OK && i < sizeof entry_points / sizeof entry_points[0]; i++) {
        seam_wasm_func **slot = (seam_wasm_func **)((char *)applet + entry_points[i].offset);
        err = find_entry(applet->instance, entry_points[i].name, entry_points[i].results,
                         entry_points[i].required, slot, text, sizeof text);
    }
    if (why != NULL && why_size > 0)
        snprintf(why, why_size, "%s", err ? text : "");
    if (err == SEAM_OK) {
        applet->stack_end = find_stack_end(applet->instance, applet->memory);
    } else {
        seam_wasm_store_free(applet->store);
        applet->store = NULL;
        applet->instance = NULL;
        applet->memory = NULL;
    }
    seam_wasm_imports_free(imports);
    return err;
}

/* Allocates an applet for module after checking its package metadata. */
static seam_err applet_new(const seam_wasm_module *module, const seam_applet_options *options,
                           seam_applet **out) {
    seam_package_info info;
    seam_applet *applet = NULL;
    seam_err err = SEAM_OK;
    if (module == NULL || out == NULL) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    err = seam_package_read(module, &info);
    if (err != SEAM_OK) {
        goto done;
    }
    applet = calloc(1, sizeof *applet);
    if (applet == NULL || (applet->response = malloc(SEAM_APPLET_RESPONSE_MAX)) == NULL) {
        free(applet);
        applet = NULL;
        err = SEAM_ERR_NOMEM;
        goto done;
    }
    applet->module = module;
    if (options != NULL && options->restore != NULL) {
        applet->restore = *options->restore;
    }
    applet->fuel =
        options != NULL && options->fuel_per_call != 0 ? options->fuel_per_call : SEAM_APPLET_FUEL;
    if (options != NULL && options->diag != NULL) {
        applet->diag = *options->diag;
    }
    if (options != NULL && options->service != NULL)
        applet->service = *options->service;
    if (options != NULL && options->registry != NULL)
        applet->registry = *options->registry;
    if (options != NULL && options->toolkit != NULL) {
        applet->toolkit = *options->toolkit;
    }
done:
    if (out != NULL) {
        *out = applet;
    }
    return err;
}

/* Calls an entry point (NULL: answers 9000) and fills *result. */
void applet_call_entry(seam_applet *applet, seam_wasm_func *func, seam_applet_result *result) {
    seam_wasm_value value = {.type = SEAM_WASM_I32, .bits = SW_OK};
    uint32_t results = func != NULL ? seam_wasm_func_result_count(func) : 0;
    seam_err err = SEAM_OK;
    bool bad_sw = false;
    memset(result, 0, sizeof *result);
    applet->response_len = 0;
    applet->storage_error = SEAM_OK;
    applet->perso_command = false;
    applet->service_calls = 0;
    applet->debug_lines = 0;
    applet->debug_dropped = 0;
    if (func != NULL) {
        seam_wasm_store_set_fuel(applet->store, applet->fuel);
        applet->running = func;
        err = seam_wasm_call(applet->store, func, NULL, 0, &value, results, &result->trap);
        applet->running = NULL;
    }
    if (err == SEAM_OK && results == 1 &&
        (value.bits > 0xFFFFu || (value.bits >> 12 != 0x6 && value.bits >> 12 != 0x9))) {
        bad_sw = true;
        result->trap.code = SEAM_WASM_TRAP_HOST;
        snprintf(result->trap.message, sizeof result->trap.message,
                 "entry point returned 0x%llx, not a status word", (unsigned long long)value.bits);
        err = SEAM_ERR_WASM_TRAP;
    }
    if (err != SEAM_OK) {
        if (result->trap.code == SEAM_WASM_TRAP_NONE) {
            result->trap.code = SEAM_WASM_TRAP_HOST;
            snprintf(result->trap.message, sizeof result->trap.message, "%s", seam_err_str(err));
        }
        result->rollback = true;
        result->sw = SW_UNKNOWN;
        result->storage = applet->storage_error;
        applet->response_len = 0;
    } else {
        result->sw = results == 1 ? (uint16_t)value.bits : SW_OK;
        result->data = applet->response_len > 0 ? applet->response : NULL;
        result->data_len = applet->response_len;
        result->perso_command = applet->perso_command;
    }
    if (func != NULL) {
        applet_diag_call_done(applet, func, result, bad_sw, value.bits);
    }
}

seam_err seam_applet_install(const seam_wasm_module *module, const seam_applet_options *options,
                             const uint8_t *params, size_t params_len, seam_applet_result *result,
                             seam_applet **out) {
    seam_applet *applet = NULL;
    seam_err err = SEAM_OK;
    if (result == NULL || (params == NULL && params_len > 0)) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    err = applet_new(module, options, &applet);
    if (err == SEAM_OK) {
        err = instantiate(applet, NULL, 0, NULL, 0);
    }
    if (err == SEAM_OK) {
        applet->params = params;
        applet->params_len = params_len;
        applet_call_entry(applet, applet->install, result);
        applet->params = NULL;
        applet->params_len = 0;
    }
done:
    if (err != SEAM_OK) {
        seam_applet_free(applet);
        applet = NULL;
    }
    if (out != NULL) {
        *out = applet;
    }
    return err;
}

seam_err seam_applet_check(const seam_wasm_module *module) {
    return seam_applet_check_explain(module, NULL, 0);
}

seam_err seam_applet_check_explain(const seam_wasm_module *module, char *why, size_t why_size) {
    seam_applet *applet = NULL;
    seam_err err = applet_new(module, NULL, &applet);
    if (why != NULL && why_size > 0) {
        snprintf(why, why_size, "%s", err ? seam_err_str(err) : "");
    }
    if (err == SEAM_OK) {
        applet->checking = true;
        err = instantiate(applet, NULL, 0, why, why_size);
    }
    seam_applet_free(applet);
    return err;
}

seam_err seam_applet_initial_image(const seam_wasm_module *module,
                                   const seam_applet_options *options, uint8_t **image,
                                   uint32_t *pages, uint32_t *stack_end) {
    seam_applet *applet = NULL;
    uint8_t *copy = NULL;
    uint32_t size = 0;
    seam_err err =
        image != NULL && pages != NULL ? applet_new(module, options, &applet) : SEAM_ERR_ARG;
    if (err == SEAM_OK) { /* segments applied, the start function not run */
        applet->fresh_memory = true;
        err = instantiate(applet, NULL, 0, NULL, 0);
    }
    if (err == SEAM_OK && stack_end != NULL)
        *stack_end = applet->stack_end;
    const uint8_t *memory = err == SEAM_OK ? seam_applet_memory(applet, &size) : NULL;
    if (err == SEAM_OK) {
        copy = malloc(size > 0 ? (size_t)size * 65536u : 1);
        err = copy != NULL ? SEAM_OK : SEAM_ERR_NOMEM;
    }
    if (err == SEAM_OK && size > 0)
        memcpy(copy, memory, (size_t)size * 65536u);
    seam_applet_free(applet);
    if (image != NULL)
        *image = err == SEAM_OK ? copy : NULL;
    if (pages != NULL)
        *pages = err == SEAM_OK ? size : 0;
    return err;
}

const uint8_t *seam_applet_initial(seam_applet *applet, uint32_t *pages) {
    if (applet != NULL && applet->initial == NULL &&
        seam_applet_initial_image(applet->module, NULL, &applet->initial, &applet->initial_pages,
                                  NULL) != SEAM_OK)
        applet->initial = NULL;
    if (pages != NULL)
        *pages = applet != NULL && applet->initial != NULL ? applet->initial_pages : 0;
    return applet != NULL ? applet->initial : NULL;
}

seam_err seam_applet_restore_over_initial(const seam_wasm_module *module,
                                          const seam_applet_options *options, uint32_t pages,
                                          seam_applet_fill_fn fill, void *ctx, seam_applet **out) {
    seam_applet *applet = NULL;
    uint8_t *image = NULL;
    uint32_t fresh = 0;
    seam_err err = SEAM_OK;
    if (fill == NULL || pages == 0 || pages > SEAM_APPLET_MAX_PAGES) {
        err = fill == NULL ? SEAM_ERR_ARG : SEAM_ERR_CARD_IMAGE;
        goto done;
    }
    err = applet_new(module, options, &applet);
    if (err == SEAM_OK) { /* the initial image: segments applied, start not run */
        applet->fresh_memory = true;
        err = instantiate(applet, NULL, 0, NULL, 0);
        applet->fresh_memory = false;
    }
    uint8_t *memory = err == SEAM_OK ? seam_wasm_memory_data(applet->memory) : NULL;
    if (err == SEAM_OK) {
        fresh = (uint32_t)(seam_wasm_memory_size(applet->memory) / 65536u);
        err = pages < fresh ? SEAM_ERR_CARD_IMAGE : SEAM_OK;
    }
    if (err == SEAM_OK) { /* kept: what the card's stored changes are changes to */
        applet->initial = malloc((size_t)fresh * 65536u);
        applet->initial_pages = fresh;
        err = applet->initial != NULL ? SEAM_OK : SEAM_ERR_NOMEM;
    }
    if (err == SEAM_OK)
        memcpy(applet->initial, memory, (size_t)fresh * 65536u);
    if (err == SEAM_OK && pages == fresh) {
        err = fill(ctx, memory, (size_t)pages * 65536u);
    } else if (err == SEAM_OK) { /* the memory grew since: instantiated again at its size */
        image = calloc((size_t)pages, 65536u);
        err = image != NULL ? SEAM_OK : SEAM_ERR_NOMEM;
        if (err == SEAM_OK) {
            memcpy(image, applet->initial, (size_t)fresh * 65536u);
            err = fill(ctx, image, (size_t)pages * 65536u);
        }
        if (err == SEAM_OK)
            err = instantiate(applet, image, pages, NULL, 0);
    }
    if (err == SEAM_OK)
        seam_applet_clear_dirty(applet);
done:
    free(image);
    if (err != SEAM_OK) {
        seam_applet_free(applet);
        applet = NULL;
    }
    if (out != NULL) {
        *out = applet;
    }
    return err;
}

seam_err seam_applet_restore(const seam_wasm_module *module, const seam_applet_options *options,
                             const uint8_t *image, uint32_t pages, seam_applet **out) {
    seam_applet *applet = NULL;
    seam_err err = SEAM_OK;
    if (image == NULL) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    if (pages == 0 || pages > SEAM_APPLET_MAX_PAGES) {
        err = SEAM_ERR_CARD_IMAGE;
        goto done;
    }
    err = applet_new(module, options, &applet);
    if (err == SEAM_OK) {
        err = instantiate(applet, image, pages, NULL, 0);
    }
done:
    if (err != SEAM_OK) {
        seam_applet_free(applet);
        applet = NULL;
    }
    if (out != NULL) {
        *out = applet;
    }
    return err;
}

/* Makes an applet whose memory outside its stack is as committed what the committed
   image would make of it (seam_applet_renew, seam_applet_rollback_unwritten). */
static seam_err applet_as_committed(seam_applet *applet) {
    if (applet == NULL || applet->store == NULL || applet->memory == NULL) {
        return SEAM_ERR_ARG;
    }
    if (seam_applet_dirty_pages(applet, NULL, 0) != 0) {
        return SEAM_ERR_CARD_IMAGE;
    }
    if (seam_wasm_instance_reset(applet->instance) != SEAM_OK) {
        return SEAM_ERR_CARD_APPLET;
    }
    applet->stack_end = find_stack_end(applet->instance, applet->memory);
    size_t stack = applet->stack_end / SEAM_WASM_DIRTY_PAGE_SIZE * SEAM_WASM_DIRTY_PAGE_SIZE;
    if (stack > 0) {
        memset(seam_wasm_memory_data(applet->memory), 0, stack);
    }
    seam_wasm_memory_clear_dirty(applet->memory);
    return SEAM_OK;
}

seam_err seam_applet_renew(seam_applet *applet) {
    seam_err err = applet_as_committed(applet);
    if (err == SEAM_OK) {
        seam_secure_zero(applet->transient, sizeof applet->transient);
        memset(&applet->restore, 0, sizeof applet->restore);
    }
    return err;
}

seam_err seam_applet_rollback_unwritten(seam_applet *applet) {
    return applet_as_committed(applet);
}

void seam_applet_free(seam_applet *applet) {
    if (applet != NULL) {
        free(applet->initial);
        seam_wasm_store_free(applet->store);
        seam_secure_zero(applet->transient, sizeof applet->transient);
        free(applet->response);
        free(applet);
    }
}

seam_err seam_applet_select(seam_applet *applet, seam_applet_result *result) {
    seam_err err = SEAM_OK;
    if (applet == NULL || applet->store == NULL || result == NULL) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    applet_call_entry(applet, applet->select, result);
done:
    return err;
}

seam_err seam_applet_deselect(seam_applet *applet, seam_applet_result *result) {
    seam_err err = SEAM_OK;
    if (applet == NULL || applet->store == NULL || result == NULL) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    applet_call_entry(applet, applet->deselect, result);
    seam_secure_zero(applet->transient[TRANSIENT_DESELECT], SEAM_APPLET_TRANSIENT_SIZE);
done:
    return err;
}

seam_err applet_run_command(seam_applet *applet, seam_wasm_func *func, const uint8_t *apdu,
                            size_t len, seam_applet_result *result) {
    seam_apdu command;
    seam_err err = SEAM_OK;
    if (applet == NULL || applet->store == NULL || apdu == NULL || result == NULL) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    err = seam_apdu_parse(apdu, len, &command);
    if (err != SEAM_OK) {
        goto done;
    }
    err = applet_run_apdu(applet, func, &command, result);
done:
    return err;
}

seam_err applet_run_apdu(seam_applet *applet, seam_wasm_func *func, const seam_apdu *command,
                         seam_applet_result *result) {
    seam_err err = SEAM_OK;
    if (applet == NULL || applet->store == NULL || command == NULL || result == NULL) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    applet->header[0] = command->cla;
    applet->header[1] = command->ins;
    applet->header[2] = command->p1;
    applet->header[3] = command->p2;
    applet->command_data = command->data;
    applet->command_nc = command->nc;
    applet->command_ne = command->ne;
    applet_call_entry(applet, func, result);
    applet->command_data = NULL;
    applet->command_nc = 0;
    applet->command_ne = 0;
    memset(applet->header, 0, sizeof applet->header);
done:
    return err;
}

seam_err seam_applet_process(seam_applet *applet, const uint8_t *apdu, size_t len,
                             seam_applet_result *result) {
    return applet_run_command(applet, applet != NULL ? applet->process : NULL, apdu, len, result);
}

seam_err seam_applet_process_command(seam_applet *applet, const seam_apdu *command,
                                     seam_applet_result *result) {
    return applet_run_apdu(applet, applet != NULL ? applet->process : NULL, command, result);
}

void seam_applet_reset(seam_applet *applet) {
    if (applet != NULL) {
        seam_secure_zero(applet->transient, sizeof applet->transient);
    }
}

seam_err seam_applet_rollback(seam_applet *applet, const uint8_t *image, uint32_t pages) {
    seam_err err = SEAM_OK;
    if (applet == NULL || image == NULL) {
        err = SEAM_ERR_ARG;
        goto done;
    }
    if (pages == 0 || pages > SEAM_APPLET_MAX_PAGES) {
        err = SEAM_ERR_CARD_IMAGE;
        goto done;
    }
    err = instantiate(applet, image, pages, NULL, 0);
done:
    return err;
}

const uint8_t *seam_applet_memory(const seam_applet *applet, uint32_t *pages) {
    const uint8_t *base = NULL;
    if (applet != NULL && applet->memory != NULL) {
        base = seam_wasm_memory_data(applet->memory);
        if (pages != NULL) {
            *pages = (uint32_t)(seam_wasm_memory_size(applet->memory) / 65536u);
        }
    }
    return base;
}

uint32_t seam_applet_stack_end(const seam_applet *applet) {
    return applet != NULL ? applet->stack_end : 0;
}

size_t seam_applet_dirty_pages(const seam_applet *applet, uint32_t *pages, size_t max) {
    uint32_t all[SEAM_APPLET_MAX_PAGES * (65536u / SEAM_WASM_DIRTY_PAGE_SIZE)];
    size_t count = 0, n = 0;
    if (applet != NULL && applet->memory != NULL) {
        n = seam_wasm_memory_dirty_pages(applet->memory, all, sizeof all / sizeof all[0]);
    }
    for (size_t i = 0; i < n && i < sizeof all / sizeof all[0]; i++) {
        /* Pages entirely inside the stack [0, stack_end) are scratch. */
        if (((uint64_t)all[i] + 1) * SEAM_WASM_DIRTY_PAGE_SIZE > applet->stack_end) {
            if (pages != NULL && count < max) {
                pages[count] = all[i];
            }
            count++;
        }
    }
    return count;
}

void seam_applet_clear_dirty(seam_applet *applet) {
    if (applet != NULL && applet->memory != NULL) {
        seam_wasm_memory_clear_dirty(applet->memory);
    }
}
