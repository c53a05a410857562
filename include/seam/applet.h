/*
 * seam applet ABI: the one header applet authors include (docs/applet-abi.md).
 *
 * An applet is C compiled to a freestanding wasm32 module:
 *
 *   clang --target=wasm32 -mcpu=mvp -O2 -ffreestanding -nostdlib \
 *         -Wl,--no-entry -Wl,--stack-first -Wl,-z,stack-size=8192 \
 *         -Wl,--export=__global_base -o applet.wasm applet.c
 *
 * It imports the host functions below from module "seam", exports the entry
 * points install, select, deselect and process (SEAM_ENTRY), and declares its
 * package metadata with SEAM_PACKAGE. Its global variables are its persistent
 * state: linear memory outside the stack survives every command that ends
 * normally, and a command that traps or runs out of fuel leaves no trace.
 *
 * Host functions trap (the command answers 6F00 and is rolled back) when
 * given a pointer range outside linear memory or a transient range outside
 * its buffer. Crypto functions that can fail on the applet's data (a bad key
 * length, a length that is not a multiple of 16) return a negative value.
 */
#ifndef SEAM_APPLET_H
#define SEAM_APPLET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__wasm__)
#define SEAM__IMPORT(name) __attribute__((import_module("seam"), import_name(#name)))
#else /* a host build (tests/card/test_applet_abi_find.c): declared, never called */
#define SEAM__IMPORT(name)
#endif

/* Marks an entry point for export: SEAM_ENTRY(process) uint32_t process(void) {...} */
#define SEAM_ENTRY(name) __attribute__((export_name(#name)))

/* ---- status words (ISO/IEC 7816-4) ------------------------------------ */

#define SW_NO_ERROR                 0x9000u
#define SW_WRONG_LENGTH             0x6700u
#define SW_SECURITY_STATUS          0x6982u
#define SW_AUTH_BLOCKED             0x6983u /* authentication method blocked */
#define SW_CONDITIONS_NOT_SATISFIED 0x6985u
#define SW_WRONG_DATA               0x6A80u
#define SW_FUNC_NOT_SUPPORTED       0x6A81u
#define SW_RECORD_NOT_FOUND         0x6A83u
#define SW_WRONG_P1P2               0x6A86u
#define SW_INS_NOT_SUPPORTED        0x6D00u
#define SW_CLA_NOT_SUPPORTED        0x6E00u
#define SW_UNKNOWN                  0x6F00u
#define SW_VERIFY_FAILED(tries)     (0x63C0u | ((uint32_t)(tries)&0x0Fu)) /* 63Cx */

/* ---- sizes -------------------------------------------------------------- */

#define SEAM_APDU_HEADER_SIZE  4u     /* CLA INS P1 P2 */
#define SEAM_RESPONSE_MAX      65536u /* response data bytes per command */
#define SEAM_TRANSIENT_SIZE    1024u  /* bytes in each transient buffer */
#define SEAM_SHA256_SIZE       32u
#define SEAM_P256_PRIVATE_SIZE 32u
#define SEAM_P256_PUBLIC_SIZE  65u /* 04 || X || Y */
#define SEAM_P256_SIG_SIZE     64u /* r || s */

/* Transient buffer kinds (Java Card CLEAR_ON_RESET / CLEAR_ON_DESELECT). */
#define SEAM_TRANSIENT_RESET    0u /* zeroed at card reset */
#define SEAM_TRANSIENT_DESELECT 1u /* zeroed at card reset and when the applet is deselected */

/* AES modes for seam_aes: bit 0 chaining, bit 1 direction. */
#define SEAM_AES_ECB     0u
#define SEAM_AES_CBC     1u
#define SEAM_AES_ENCRYPT 0u
#define SEAM_AES_DECRYPT 2u

/* ---- host functions (module "seam") ------------------------------------ */

/* Copies the command APDU as CLA INS P1 P2 || data (Nc bytes) into buf[0..cap)
 * (as much as fits); returns 4 + Nc, the whole length. */
SEAM__IMPORT(apdu_command) uint32_t seam_apdu_command(void *buf, uint32_t cap);

/* Ne of the command APDU: 0 when it had no Le, else 1..65536. */
SEAM__IMPORT(apdu_ne) uint32_t seam_apdu_ne(void);

/* Appends data[0..len) to the response data; returns 0, or -1 (nothing
 * appended) when the response would exceed SEAM_RESPONSE_MAX. */
SEAM__IMPORT(apdu_send) int32_t seam_apdu_send(const void *data, uint32_t len);

/* During install: copies the install parameters into buf[0..cap) (as much as
 * fits) and returns their whole length; 0 at any other time. */
SEAM__IMPORT(install_params) uint32_t seam_install_params(void *buf, uint32_t cap);

/* Copies len bytes at offset of transient buffer `kind` into buf. */
SEAM__IMPORT(transient_get)
void seam_transient_get(uint32_t kind, uint32_t offset, void *buf, uint32_t len);

/* Copies buf[0..len) into transient buffer `kind` at offset. */
SEAM__IMPORT(transient_put)
void seam_transient_put(uint32_t kind, uint32_t offset, const void *buf, uint32_t len);

/* Fills buf[0..len) with random bytes. */
SEAM__IMPORT(random) void seam_random(void *buf, uint32_t len);

/* Writes the SHA-256 digest of data[0..len) to digest[0..32). */
SEAM__IMPORT(sha256) void seam_sha256(const void *data, uint32_t len, void *digest);

/* AES (key 16, 24 or 32 bytes) over len bytes (a multiple of 16) from in to
 * out (out may equal in); iv (16 bytes) is read only in CBC mode. mode is
 * SEAM_AES_ECB or SEAM_AES_CBC, or-ed with SEAM_AES_ENCRYPT or
 * SEAM_AES_DECRYPT. Returns 0, or -1 for a bad key length, len or mode. */
SEAM__IMPORT(aes)
int32_t seam_aes(uint32_t mode, const void *key, uint32_t key_len, const void *iv, const void *in,
                 uint32_t len, void *out);

/* Writes HMAC-SHA256 of data[0..len) under key[0..key_len) to mac[0..32). */
SEAM__IMPORT(hmac_sha256)
void seam_hmac_sha256(const void *key, uint32_t key_len, const void *data, uint32_t len, void *mac);

/* Makes a P-256 key pair: priv[0..32), pub[0..65). */
SEAM__IMPORT(p256_generate) void seam_p256_generate(void *priv, void *pub);

/* Signs a SHA-256 digest with ECDSA into sig[0..64) (r || s); returns 0, or
 * -1 when priv is not a valid private key. */
SEAM__IMPORT(p256_sign) int32_t seam_p256_sign(const void *priv, const void *digest, void *sig);

/* Returns 1 when sig is a valid ECDSA signature of digest under pub, else 0. */
SEAM__IMPORT(p256_verify)
int32_t seam_p256_verify(const void *pub, const void *digest, const void *sig);

/* ---- debugging ------------------------------------------------------------ */

#define SEAM_DEBUG_TEXT_MAX  256u /* bytes of one seam_debug line that are kept */
#define SEAM_DEBUG_LINES_MAX 32u  /* lines shown per entry-point call; the rest are counted */

/* Shows text[0..len) in the card's log with the instance's AID, on a card made
 * with the development profile (the default); on a production card it does
 * nothing. Never fails, on any card: an applet that calls it loads and runs on
 * both, and pays the same fuel (10 + min(len, 256) / 16). Bytes past
 * SEAM_DEBUG_TEXT_MAX and lines past SEAM_DEBUG_LINES_MAX per entry-point call
 * are dropped; anything but printable ASCII is shown escaped. */
SEAM__IMPORT(debug) void seam_debug(const void *text, uint32_t len);

/* seam_debug of a NUL-terminated string. */
static inline void seam_debug_str(const char *text) {
    uint32_t n = 0;
    while (text[n] != 0 && n <= SEAM_DEBUG_TEXT_MAX) { /* one more: the card sees the cut */
        n++;
    }
    seam_debug(text, n);
}

/* ---- the restore module (docs/restore-module.md) -------------------------
 *
 * Every instance has a record in the card's restore module, keyed by its
 * identity (security domain AID, instance AID) and kept across deletion and
 * upgrade of the instance. It holds the personalization blocks the instance
 * received (replayed into the new version after an upgrade) and named
 * application data entries. Optional entry points, exported with SEAM_ENTRY:
 *
 *   personalize            () -> i32  one personalization block, read with
 *                          seam_apdu_command as 80 E2 P1 P2 || data (STORE
 *                          DATA after INSTALL [for personalization], or a
 *                          block replayed from the restore module at install
 *                          or after an upgrade). Without this export the
 *                          block goes to process.
 *   save_for_upgrade       () -> i32  on the old instance when an upgrade
 *                          starts: put the application data to keep with
 *                          seam_restore_put. Anything but 9000 cancels the
 *                          upgrade and changes nothing.
 *   restore_after_upgrade  () -> i32  on the new instance, after install and
 *                          the personalization replay: read the entries with
 *                          seam_restore_get and rebuild the state (the data
 *                          layout is the applet's business; see
 *                          seam_upgrade_previous_version). Anything but 9000
 *                          leaves the old instance in place.
 */

#define SEAM_RESTORE_NAME_MAX   16u   /* bytes in an entry name (1..16) */
#define SEAM_RESTORE_VALUE_MAX  2048u /* bytes in one entry value */
#define SEAM_RESTORE_QUOTA      8192u /* names + values + perso blocks per record */
#define SEAM_RESTORE_ERR_QUOTA  (-1)  /* over the quota or a size limit */
#define SEAM_RESTORE_ERR_ABSENT (-2)  /* no such entry */
#define SEAM_RESTORE_ERR_DENIED (-3)  /* not allowed now (P10) */

/* Sets entry name[0..name_len) of this instance's record to value[0..len)
 * (len 0 deletes it) in the current command's transaction. Returns 0, or
 * SEAM_RESTORE_ERR_QUOTA (nothing changed) for a bad name length, a value over
 * SEAM_RESTORE_VALUE_MAX, a record over SEAM_RESTORE_QUOTA, or the records of
 * the instance's security domain over their quota (docs/restore-module.md). */
SEAM__IMPORT(restore_put)
int32_t seam_restore_put(const void *name, uint32_t name_len, const void *value, uint32_t len);

/* Only inside restore_after_upgrade: copies entry name's value into
 * buf[0..cap) (as much as fits) and returns its whole length;
 * SEAM_RESTORE_ERR_ABSENT when there is no such entry; SEAM_RESTORE_ERR_DENIED
 * at any other time: a running applet cannot read the restore module. */
SEAM__IMPORT(restore_get)
int32_t seam_restore_get(const void *name, uint32_t name_len, void *buf, uint32_t cap);

/* Files a personalization block (p1 as STORE DATA's P1, data[0..len), at most
 * 255 bytes) in this instance's record, after those already there: the applet
 * hands over personalization data it received some other way (P5 b). Returns
 * 0 or SEAM_RESTORE_ERR_QUOTA (the record's or its security domain's quota). */
SEAM__IMPORT(restore_perso_add)
int32_t seam_restore_perso_add(uint32_t p1, const void *data, uint32_t len);

/* Only inside personalize, for the STORE DATA block it is running: declares the
 * block a command to the applet, not personalization data, so the card does not
 * file it in the restore module (its memory changes are kept as usual). It covers
 * that one block, nothing else; a block the applet does not declare is filed.
 * Returns 0, or SEAM_RESTORE_ERR_DENIED outside personalize. The applet's own
 * choice: data declared a command are not replayed after an upgrade. In a block
 * replayed from the record it returns 0 and changes nothing (the block is filed
 * already). */
SEAM__IMPORT(personalize_command) int32_t seam_personalize_command(void);

/* During an upgrade (install, personalize replay, restore_after_upgrade of the
 * new instance): the version of the package it replaces, major << 8 | minor;
 * 0 at any other time. */
SEAM__IMPORT(upgrade_previous_version) uint32_t seam_upgrade_previous_version(void);

/* ---- the card application toolkit (docs/applet-abi.md, docs/toolkit.md) -----
 *
 * An applet sends proactive commands (ETSI TS 102 223: BER-TLV D0 holding
 * COMPREHENSION-TLV objects) to the terminal through the card's queue, and
 * gets the terminal's answer and the terminal's envelopes in optional entry
 * points, exported with SEAM_ENTRY, each () -> i32 (its status word; a
 * failure is the applet's own: its memory and what it queued or registered in
 * that call go back, the terminal is not told). Read the message with
 * seam_toolkit_message:
 *
 *   terminal_response  the TERMINAL RESPONSE to the applet's fetched command
 *                      (its COMPREHENSION-TLV objects: 81 command details,
 *                      82 device identities, 83 result, ...)
 *   menu_selection     ENVELOPE D3 for a menu item the applet registered
 *   event_download     ENVELOPE D6 of an event the applet registered; and,
 *                      made by the card once per TERMINAL PROFILE, D6 of
 *                      SEAM_TOOLKIT_EVENT_PROFILE_DOWNLOAD for every instance
 *                      holding a menu item or an event (no registration
 *                      needed): the moment to start timers again, which are
 *                      RAM (TS 102 241's EVENT_PROFILE_DOWNLOAD)
 *   timer_expiration   ENVELOPE D7 of a timer the applet registered
 *
 * The queue, the profile and the timers are RAM of the card: a power-up or
 * reset starts with none. Menu items (with the text of the applet's own SET
 * UP MENU: register first, then send it) and events are kept in the card's
 * image per instance; after TERMINAL PROFILE the card tells the terminal
 * of them itself. A command whose call fails or is refused queues and
 * registers nothing.
 */

#define SEAM_TOOLKIT_COMMAND_MAX   255u /* bytes of one proactive command, D0 included */
#define SEAM_TOOLKIT_QUEUE_MAX     4u   /* proactive commands the card holds, all applets */
#define SEAM_TOOLKIT_ERR_BUSY      (-1) /* this applet has one queued or awaiting its answer */
#define SEAM_TOOLKIT_ERR_FULL      (-2) /* the queue (or the registrations) are full */
#define SEAM_TOOLKIT_ERR_MALFORMED (-3) /* not a well-formed proactive command */
#define SEAM_TOOLKIT_ERR_DENIED    (-4) /* bad kind or id, or another applet's item or timer */
#define SEAM_TOOLKIT_ERR_LIMIT     (-5) /* this applet holds its own limit of that kind */

/* seam_toolkit_register kinds */
#define SEAM_TOOLKIT_MENU_ITEM 0u /* a menu item identifier, 1..255 (ENVELOPE D3) */
#define SEAM_TOOLKIT_EVENT     1u /* an event list value, 0..255 (ENVELOPE D6) */
#define SEAM_TOOLKIT_TIMER     2u /* a timer identifier, 1..8 (ENVELOPE D7) */

/* The event value (99 01 E1) of the card's "terminal profile arrived" (seam's choice;
 * SEAM_TK_EVENT_PROFILE_DOWNLOAD in seam/toolkit.h): never sent by the terminal. */
#define SEAM_TOOLKIT_EVENT_PROFILE_DOWNLOAD 0xE1u
/* The event value (99 01 E2) of "synchronization result" (seam's choice;
 * SEAM_TK_EVENT_SYNC_RESULT in seam/toolkit.h): the terminal's later report of a REQUEST
 * SYNCHRONIZATION that asked for it (5308 = 02); register it to receive it. */
#define SEAM_TOOLKIT_EVENT_SYNC_RESULT 0xE2u

/* Queues proactive command cmd[0..len) for the terminal: D0, its length (one byte,
 * or 81 xx), then COMPREHENSION-TLV objects, command details (01/81, 3 bytes,
 * number 01..FE) first and device identities (02/82, source 81) second. Returns 0,
 * or SEAM_TOOLKIT_ERR_BUSY / _FULL / _MALFORMED (nothing queued). At most one
 * command per applet waits at a time: queued, or fetched and awaiting the
 * TERMINAL RESPONSE that terminal_response receives. */
SEAM__IMPORT(toolkit_proactive) int32_t seam_toolkit_proactive(const void *cmd, uint32_t len);

/* Copies the TERMINAL PROFILE of this power-up into buf[0..cap) (as much as fits);
 * returns its length, 0 when the terminal sent none. */
SEAM__IMPORT(toolkit_profile) uint32_t seam_toolkit_profile(void *buf, uint32_t cap);

/* Inside a toolkit entry point: copies its message (the TERMINAL RESPONSE's data, or
 * the ENVELOPE's BER-TLV) into buf[0..cap) (as much as fits); returns its whole
 * length; 0 elsewhere. */
SEAM__IMPORT(toolkit_message) uint32_t seam_toolkit_message(void *buf, uint32_t cap);

/* Registers (on 1) or releases (on 0) this applet for a menu item, an event or a
 * timer (SEAM_TOOLKIT_*): 0, SEAM_TOOLKIT_ERR_DENIED, SEAM_TOOLKIT_ERR_LIMIT (this
 * applet holds SEAM_TOOLKIT_*_PER_APPLET of that kind) or SEAM_TOOLKIT_ERR_FULL.
 * A menu item or timer has one owner; an event goes to every applet registered. */
#define SEAM_TOOLKIT_MENU_ITEMS_PER_APPLET 4u
#define SEAM_TOOLKIT_EVENTS_PER_APPLET     16u
#define SEAM_TOOLKIT_TIMERS_PER_APPLET     2u
SEAM__IMPORT(toolkit_register)
int32_t seam_toolkit_register(uint32_t kind, uint32_t id, uint32_t on);

/* True when the terminal profile announces profile bit n (TS 102 223 §5.2: bit n is
 * byte (n - 1) / 8, bit (n - 1) % 8 from b1). */
static inline bool seam_toolkit_profile_bit(uint32_t n) {
    uint8_t profile[SEAM_TOOLKIT_COMMAND_MAX];
    uint32_t len = seam_toolkit_profile(profile, sizeof profile);
    return n >= 1 && (n - 1) / 8 < len && (profile[(n - 1) / 8] >> ((n - 1) % 8) & 1u) != 0;
}

/* Finds the first COMPREHENSION-TLV object of tag in data[0..len) (TS 101 220 §7.1.1):
 * a 1-byte tag (01..7E, the CR bit 80 ignored) or a 3-byte one given as its 2-byte
 * value (7F hi lo, e.g. 0x5309 for 7F D3 09; the CR bit 8000 ignored); lengths of 1
 * byte or 81 xx. Sets *value and *value_len; false when absent or malformed. Reads
 * nothing past data[len - 1]. */
static inline bool seam_toolkit_find(const uint8_t *data, uint32_t len, uint32_t tag,
                                     const uint8_t **value, uint32_t *value_len) {
    bool wide = tag > 0xFFu;
    uint32_t o = 0;
    while (o < len) {
        bool three = data[o] == 0x7Fu;
        uint32_t h = three ? 3u : 1u; /* the tag's bytes */
        uint32_t t;
        uint32_t l;
        if (len - o < h + 1u) {
            return false;
        }
        t = three ? ((uint32_t)data[o + 1] << 8 | data[o + 2]) & 0x7FFFu : data[o] & 0x7Fu;
        l = data[o + h++];
        if (l == 0x81u) {
            if (len - o < h + 1u) {
                return false;
            }
            l = data[o + h++];
        } else if (l >= 0x80u) {
            return false;
        }
        if (l > len - o - h) {
            return false;
        }
        if (three == wide && t == (tag & (wide ? 0x7FFFu : 0x7Fu))) {
            *value = data + o + h;
            *value_len = l;
            return true;
        }
        o += h + l;
    }
    return false;
}

/* ---- services between instances (docs/applet-abi.md) ---------------------------
 *
 * Instance A asks instance B, by AID, for a service: the card runs B's optional
 * entry point `service` (() -> i32, exported with SEAM_ENTRY), in which B reads
 * A's AID with seam_service_caller and the request with seam_toolkit_message,
 * decides (an allow list of AIDs, say) and answers a status word: all that A
 * gets back. B's changes are committed when it answers success, else they go
 * back (memory, what it queued or registered). The card allows the call only
 * between instances of the same security domain, never while another service
 * call runs (no recursion, no re-entrancy) and never to the caller itself. B
 * runs on at most the fuel A has left, and A pays what B spent plus
 * SEAM_SERVICE_FUEL.
 */

#define SEAM_SERVICE_MESSAGE_MAX 64u   /* bytes of a request */
#define SEAM_SERVICE_CALLS_MAX   4u    /* calls per entry-point call of the caller */
#define SEAM_SERVICE_FUEL        1000u /* the caller's price of a call, beside the callee's fuel */
#define SEAM_SERVICE_ERR_ABSENT  (-1)  /* no such instance, not selectable, no `service` */
#define SEAM_SERVICE_ERR_DENIED  (-2)  /* another security domain's instance, or no calls here */
#define SEAM_SERVICE_ERR_BUSY    (-3)  /* inside a service call (no nesting), or itself */
#define SEAM_SERVICE_ERR_LIMIT   (-4)  /* AID not 5..16 bytes, request too long, too many calls */

/* Asks instance aid[0..aid_len) for a service with message[0..len): returns the status word
 * its `service` entry point answered (0x6000..0x9FFF; 0x6F00 when it failed), or a
 * SEAM_SERVICE_ERR_* value (nothing ran). */
SEAM__IMPORT(service_call)
int32_t seam_service_call(const void *aid, uint32_t aid_len, const void *message, uint32_t len);

/* Inside `service`: copies the calling instance's AID into buf[0..cap) (as much as fits);
 * returns its length; 0 elsewhere. */
SEAM__IMPORT(service_caller) uint32_t seam_service_caller(void *buf, uint32_t cap);

/* ---- the card's registry (docs/applet-abi.md "The card's registry") ----------
 *
 * An instance holding GlobalPlatform's Global Registry privilege (privileges
 * byte 2, b3: 00 04 00 at INSTALL) may read the card's registry, one entry at a
 * time: its security domains, then its packages, then its instances, then the
 * restore records it holds, each in key order (AID; SD AID then instance AID for
 * a restore record). An entry is SEAM_REGISTRY_ENTRY_MAX bytes at most:
 *
 *   kind (SEAM_REGISTRY_*) | life cycle | version major | version minor |
 *   AID length (5..16) | AID | SD AID length (0..16) | SD AID
 *   [instance, restore record: | package AID length (0..16) | package AID]
 *   [restore record: | size (4, big endian)]
 *
 * The version is the package version from the package's metadata (of its
 * package for an instance; 0.0 for a security domain and a restore record). The
 * SD AID is the security domain the entry is associated with (empty for the
 * ISD); for a restore record its owner. A restore record's AID is its instance's,
 * its package the package of that instance if the card holds it under the same
 * SD (else empty), its size the bytes its blocks and entries hold; its contents
 * are never read. Any other instance is refused, whatever the index: it learns
 * nothing, not even how many there are. Key material is never read. Fuel: a
 * call, plus one unit per entry skipped.
 */

#define SEAM_REGISTRY_ENTRY_MAX  59u  /* bytes of one entry: 4 + 3 LV AIDs + a size */
#define SEAM_REGISTRY_DOMAIN     1u   /* a security domain */
#define SEAM_REGISTRY_PACKAGE    2u   /* a package (executable load file) */
#define SEAM_REGISTRY_INSTANCE   3u   /* an applet instance */
#define SEAM_REGISTRY_RESTORE    4u   /* a restore record (docs/restore-module.md) */
#define SEAM_REGISTRY_END        (-1) /* no entry at that index (past the last one) */
#define SEAM_REGISTRY_ERR_DENIED (-2) /* the caller does not hold Global Registry */

/* Copies entry index (0, 1, ...) of the card's registry into buf[0..cap) (as much as
 * fits) and returns its whole length; SEAM_REGISTRY_END past the last entry;
 * SEAM_REGISTRY_ERR_DENIED (nothing copied) when this instance lacks Global Registry. */
SEAM__IMPORT(registry_entry)
int32_t seam_registry_entry(uint32_t index, void *buf, uint32_t cap);

/* ---- command helpers ------------------------------------------------------ */

/* A command APDU as the applet sees it; data points into the caller's buffer. */
typedef struct {
    uint8_t cla, ins, p1, p2;
    uint32_t nc;         /* command data bytes (may exceed what the buffer held) */
    uint32_t ne;         /* expected response bytes, 0 when absent */
    const uint8_t *data; /* buf + 4 */
    bool complete;       /* the whole data fitted in the buffer */
} seam_command;

/* Reads the command into buf[0..cap) (cap >= 4) and fills *cmd. */
static inline void seam_command_read(seam_command *cmd, uint8_t *buf, uint32_t cap) {
    uint32_t total = seam_apdu_command(buf, cap);
    cmd->cla = buf[0];
    cmd->ins = buf[1];
    cmd->p1 = buf[2];
    cmd->p2 = buf[3];
    cmd->nc = total - SEAM_APDU_HEADER_SIZE;
    cmd->ne = seam_apdu_ne();
    cmd->data = buf + SEAM_APDU_HEADER_SIZE;
    cmd->complete = total <= cap;
}

/* ISO/IEC 7816-3 case of a command: 1 (no data, no Le), 2 (Le only),
 * 3 (data only) or 4 (data and Le). */
static inline uint32_t seam_command_case(const seam_command *cmd) {
    return cmd->nc == 0 ? (cmd->ne == 0 ? 1u : 2u) : (cmd->ne == 0 ? 3u : 4u);
}

/* Reads a big-endian 16- or 32-bit number. */
static inline uint32_t seam_get_u16(const uint8_t *p) {
    return ((uint32_t)p[0] << 8) | p[1];
}
static inline uint32_t seam_get_u32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Writes a big-endian 16- or 32-bit number. */
static inline void seam_put_u16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void seam_put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Reads one BER-TLV at data[*off..len) (a personalization block, say): a one- or
 * two-byte tag, a length in short form or 81 xx. Sets *tag, *value (into data) and
 * *value_len and advances *off; returns false, changing nothing, when the TLV is
 * malformed or overruns len. */
static inline bool seam_ber_next(const uint8_t *data, uint32_t len, uint32_t *off, uint32_t *tag,
                                 const uint8_t **value, uint32_t *value_len) {
    uint32_t o = *off;
    uint32_t t;
    uint32_t l;
    if (o >= len) {
        return false;
    }
    t = data[o++];
    if ((t & 0x1Fu) == 0x1Fu) {
        if (o >= len || (data[o] & 0x80u) != 0) {
            return false;
        }
        t = (t << 8) | data[o++];
    }
    if (o >= len) {
        return false;
    }
    l = data[o++];
    if (l == 0x81u) {
        if (o >= len) {
            return false;
        }
        l = data[o++];
    } else if (l >= 0x80u) {
        return false;
    }
    if (l > len - o) {
        return false;
    }
    *tag = t;
    *value = data + o;
    *value_len = l;
    *off = o + l;
    return true;
}

/* ---- memory functions -------------------------------------------------------- */

/*
 * clang turns struct copies and clearing loops into calls to memcpy and
 * memset even in freestanding code, so the header supplies them (weak, so
 * every file of an applet may include it; no_builtin so that they do not
 * compile into calls to themselves). Linking wasi-libc instead would add
 * destructor wrappers around every export. wasm builds only: a host build
 * has its C library's.
 */
#if defined(__wasm__)
__attribute__((weak, no_builtin("memset"))) void *memset(void *dest, int c, size_t n) {
    uint8_t *d = dest;
    for (size_t i = 0; i < n; i++) {
        d[i] = (uint8_t)c;
    }
    return dest;
}

__attribute__((weak, no_builtin("memcpy"))) void *memcpy(void *restrict dest,
                                                         const void *restrict src, size_t n) {
    uint8_t *d = dest;
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++) {
        d[i] = s[i];
    }
    return dest;
}

__attribute__((weak, no_builtin("memmove"))) void *memmove(void *dest, const void *src, size_t n) {
    uint8_t *d = dest;
    const uint8_t *s = src;
    if (d < s) {
        for (size_t i = 0; i < n; i++) {
            d[i] = s[i];
        }
    } else {
        for (size_t i = n; i > 0; i--) {
            d[i - 1] = s[i - 1];
        }
    }
    return dest;
}

__attribute__((weak, no_builtin("memcmp"))) int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = a;
    const uint8_t *y = b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i]) {
            return x[i] < y[i] ? -1 : 1;
        }
    }
    return 0;
}
#endif

/* ---- package metadata ------------------------------------------------------ */

#define SEAM__STR(...)                                                                           #__VA_ARGS__
#define SEAM__XSTR(...)                                                                          SEAM__STR(__VA_ARGS__)
#define SEAM__NTH(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, n, ...) n
#define SEAM__NARGS(...)                                                                           \
    SEAM__NTH(__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)

/* An AID of 5 to 16 bytes for SEAM_PACKAGE: tag 4F, its length, its bytes. */
#define SEAM_AID(...) 0x4F, SEAM__NARGS(__VA_ARGS__), __VA_ARGS__

/* One applet entry for SEAM_PACKAGE: template 61 holding the class AID (4F). */
#define SEAM_APPLET_AID(...) 0x61, 2 + SEAM__NARGS(__VA_ARGS__), SEAM_AID(__VA_ARGS__)

/*
 * Declares the package metadata: the custom section "seam.package" (BER-TLV,
 * docs/applet-abi.md). Use once per module, at file scope:
 *
 *   SEAM_PACKAGE(SEAM_AID(0xA0, 0x00, 0x00, 0x05, 0x53), 1, 0, 1, 0,
 *                SEAM_APPLET_AID(0xA0, 0x00, 0x00, 0x05, 0x53, 0x01));
 *
 * package_aid is a SEAM_AID, then the package version and the platform
 * version it needs (major, minor; 0..255 each), then one or more
 * SEAM_APPLET_AID. clang puts a section called .custom_section.<name> into a
 * wasm custom section called <name>; an asm block is used because a C array
 * with that section attribute becomes a data segment in clang 14.
 */
#define SEAM_PACKAGE(package_aid, major, minor, platform_major, platform_minor, ...)               \
    __asm__(".section .custom_section.seam.package,\"\",@\n"                                       \
            ".byte " SEAM__XSTR(                                                                   \
                package_aid) "\n"                                                                  \
                             ".byte 0xC0, 2, " SEAM__XSTR(                                         \
                                 major, minor) "\n"                                                \
                                               ".byte 0xC1, 2, " SEAM__XSTR(                       \
                                                   platform_major,                                 \
                                                   platform_minor) "\n"                            \
                                                                   ".byte " SEAM__XSTR(            \
                                                                       __VA_ARGS__) "\n"           \
                                                                                    ".text\n")

#endif
