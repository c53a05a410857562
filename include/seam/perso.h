/*
 * perso: personalization and restore outside the card (P4, P6, P9, P10, P12;
 * docs/restore-module.md "Outside the card").
 *
 * A terminal or a secure flash card's controller acts on the card through a
 * security domain of its own, the *domain* (an SSD with Authorized Management
 * whose SCP03 key set was put in place when the card was personalized), always
 * at level 33. Content it installs belongs to that domain. This layer holds
 * what the terminal, the flash card controller and the server share:
 *
 *  - the domain's key file and the session with it;
 *  - the record codec: the card's export (MANAGE ELF UPGRADE P1 10, `A2 {...}`),
 *    a package personalized with a `seam.perso` section, DGI 7F71;
 *  - sealing personalization data for one terminal (ECDH P-256 + AES-256-GCM):
 *    the server seals, only that terminal opens;
 *  - the restore store: restore records kept outside the card, in a SQLite file
 *    (the terminal's state, the flash card's flash), sealed under a key derived
 *    from the domain's key set and the card's CIN, released only into an
 *    authorized load of the same application identity; refusals are logged;
 *  - the flows, over a seam_gp session: install a package personalized outside
 *    the card (P6), update one personalized outside the card (P9), restore an
 *    application from the store (P4). The update flow keeps a journal in the
 *    store and resumes after a power cut.
 *
 * Uses util, crypto, gp and SQLite. Every function that changes the store is
 * one transaction.
 */
#ifndef SEAM_PERSO_H
#define SEAM_PERSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seam/errors.h"
#include "seam/gp.h"

#define SEAM_PERSO_BLOCKS_MAX  64u   /* personalization blocks in one record */
#define SEAM_PERSO_ENTRIES_MAX 64u   /* application data entries in one record */
#define SEAM_PERSO_RECORD_MAX  12288 /* bytes of one encoded record (the card's quota is 8192) */
#define SEAM_PERSO_CIN_MAX     16u
#define SEAM_PERSO_SEAL_OVERHEAD                                                                   \
    (65u + 12u + 16u) /* ephemeral public key, nonce, tag: seam_perso_seal's growth */

/* ---- the domain -------------------------------------------------------------------- */

/* A security domain given to a terminal or a controller, and its key set. */
typedef struct {
    seam_gp_aid aid;
    uint8_t kvn; /* 01..7F */
    seam_gp_keys keys;
} seam_perso_domain;

/* Parses a domain key file's text ("aid=HEX kvn=N enc=HEX mac=HEX dek=HEX", blanks or
   newlines between fields, each once). Errors: SEAM_ERR_MALFORMED; *out unchanged. */
seam_err seam_perso_domain_parse(const char *text, size_t len, seam_perso_domain *out);

/* Writes d as key file text (NUL-terminated) into out[0..cap). SEAM_ERR_BUFFER_SMALL. */
seam_err seam_perso_domain_format(const seam_perso_domain *d, char *out, size_t cap);

/* Reads the key file at path; refuses one that others than its owner may read
   (SEAM_ERR_PERSO_KEY_FILE). Errors also SEAM_ERR_IO, SEAM_ERR_MALFORMED. */
seam_err seam_perso_domain_load(const char *path, seam_perso_domain *out);

/* SELECTs the domain and opens SCP03 at level 33 with its key set. A card that
   refuses: SEAM_OK with its SW and no channel. Errors: gp's. */
seam_err seam_perso_domain_open(seam_gp *gp, const seam_perso_domain *d, uint16_t *sw);

/* ---- records ----------------------------------------------------------------------- */

typedef struct {
    uint8_t p1; /* the STORE DATA P1 the block came with */
    const uint8_t *data;
    size_t len; /* 0..255 */
} seam_perso_block;

typedef struct {
    const uint8_t *name; /* 1..16 bytes */
    size_t name_len;
    const uint8_t *value; /* 0..2048 bytes */
    size_t value_len;
} seam_perso_entry;

/* One application's restore-module record. Pointers point into the bytes it was decoded
   from (or the caller's), never owned. */
typedef struct {
    seam_gp_aid instance;
    uint16_t version; /* the package version the record was exported from (major << 8 | minor); 0
                         unknown */
    size_t block_count;
    seam_perso_block blocks[SEAM_PERSO_BLOCKS_MAX];
    size_t entry_count;
    seam_perso_entry entries[SEAM_PERSO_ENTRIES_MAX];
} seam_perso_record;

/* Decodes the card's export `A2 { 4F instance, C0 version, E2 {P1 || data}*, E1 {80 name, 81
   value}* }` (docs/restore-module.md). Errors: SEAM_ERR_TRUNCATED, SEAM_ERR_MALFORMED
   (unknown tag, bad length, a field missing or repeated, a limit above); *out unchanged. */
seam_err seam_perso_record_decode(const uint8_t *data, size_t len, seam_perso_record *out);

/* Encodes r as the export does, into out[0..cap). SEAM_ERR_BUFFER_SMALL (size in *out_len). */
seam_err seam_perso_record_encode(const seam_perso_record *r, uint8_t *out, size_t cap,
                                  size_t *out_len);

/* Writes module[0..len) with a custom section `seam.perso` holding r's blocks appended
   (the card files them at INSTALL, docs/restore-module.md (d)). Errors:
   SEAM_ERR_GP_PACKAGE (not a seam package, or one that already has `seam.perso`),
   SEAM_ERR_BUFFER_SMALL (size in *out_len). */
seam_err seam_perso_package_personalize(const uint8_t *module, size_t len,
                                        const seam_perso_record *r, uint8_t *out, size_t cap,
                                        size_t *out_len);

/* True when module[0..len) (a seam package) already carries a custom section `seam.perso`:
   personalization someone else put there, which seam_perso_package_personalize refuses. */
bool seam_perso_package_has_perso(const uint8_t *module, size_t len);

/* Writes DGI 7F71 (r's entries for r's instance) into out[0..cap). SEAM_OK with *out_len 0
   when r has no entry. SEAM_ERR_BUFFER_SMALL. */
seam_err seam_perso_entries_dgi(const seam_perso_record *r, uint8_t *out, size_t cap,
                                size_t *out_len);

/* ---- sealing for one terminal (P6) ------------------------------------------------- */

/* Makes a P-256 key pair for a terminal: priv (32 bytes), pub (65 bytes, 04 || X || Y). */
seam_err seam_perso_terminal_key_new(uint8_t priv[32], uint8_t pub[65]);

/* Seals plain[0..len) for the terminal whose public key is pub, bound to aad[0..aad_len):
   out = ephemeral public key || nonce || ciphertext || tag, len + SEAM_PERSO_SEAL_OVERHEAD
   bytes. Errors: SEAM_ERR_ARG (not a P-256 point), SEAM_ERR_BUFFER_SMALL. */
seam_err seam_perso_seal(const uint8_t pub[65], const uint8_t *aad, size_t aad_len,
                         const uint8_t *plain, size_t len, uint8_t *out, size_t cap,
                         size_t *out_len);

/* Opens what seam_perso_seal made for priv with the same aad. Errors:
   SEAM_ERR_PERSO_SEAL (wrong terminal, wrong aad, tampered: nothing written),
   SEAM_ERR_TRUNCATED, SEAM_ERR_BUFFER_SMALL. */
seam_err seam_perso_open(const uint8_t priv[32], const uint8_t *aad, size_t aad_len,
                         const uint8_t *sealed, size_t len, uint8_t *out, size_t cap,
                         size_t *out_len);

/* ---- the restore store (P4, P10) --------------------------------------------------- */

typedef struct seam_perso_store seam_perso_store;

/* Opens (creating its tables) the restore store in the SQLite file at path (WAL,
   synchronous=FULL). Errors: SEAM_ERR_IO, SEAM_ERR_NOMEM. */
seam_err seam_perso_store_open(const char *path, seam_perso_store **out);

/* Closes the store; NULL is allowed. */
void seam_perso_store_close(seam_perso_store *s);

/* A SHA-256 digest of every row of the store's records and journal (not of the refusal
   log, which a refusal appends to): what "changes nothing" checks compare. */
seam_err seam_perso_store_digest(seam_perso_store *s, uint8_t digest[32]);

/* One line of the store's refusal log, oldest first (seam_perso_store_log). */
typedef struct {
    int64_t time;
    char cin[2 * SEAM_PERSO_CIN_MAX + 1]; /* hex */
    char instance[2 * SEAM_GP_AID_MAX + 1];
    char reason[128];
} seam_perso_refusal;

/* Calls fn for each refusal the store logged. */
seam_err seam_perso_store_log(seam_perso_store *s,
                              seam_err (*fn)(void *ctx, const seam_perso_refusal *r), void *ctx);

/* One record the store holds, as its clear columns say (the record itself stays sealed). */
typedef struct {
    char cin[2 * SEAM_PERSO_CIN_MAX + 1]; /* hex */
    char sd[2 * SEAM_GP_AID_MAX + 1];
    char instance[2 * SEAM_GP_AID_MAX + 1];
    char package[2 * SEAM_GP_AID_MAX + 1];
    size_t sealed_len; /* bytes of the sealed record (its tag included) */
} seam_perso_stored;

/* Calls fn for each record the store holds, in key order (nothing is opened). */
seam_err seam_perso_store_records(seam_perso_store *s,
                                  seam_err (*fn)(void *ctx, const seam_perso_stored *r), void *ctx);

/* ---- the flows (over a seam_gp session on the card) -------------------------------- */

/* Who is acting and on which card: the flows read nothing else. Each flow opens the
   domain (SELECT, the CIN read in clear and checked first, then SCP03 at level 33),
   unless gp already has a level-33 channel: that one is taken as the domain's (the
   caller opened it with seam_perso_domain_open), and the CIN is read through it. */
typedef struct {
    seam_gp *gp;                     /* the session with the card (borrowed) */
    const seam_perso_domain *domain; /* the domain acted through */
    seam_perso_store *store;         /* the restore store (borrowed) */
    uint8_t cin[SEAM_PERSO_CIN_MAX]; /* the card's CIN (GET DATA 45), checked by the flows */
    size_t cin_len;
} seam_perso_actor;

/* What a flow did, for the caller's report. */
typedef struct {
    seam_gp_package package; /* the package acted on, as its file says */
    size_t instances;        /* instances installed, updated or restored */
    size_t perso_bytes;      /* personalization bytes the flow sent to the card */
    size_t load_bytes;       /* load file bytes sent */
    bool resumed;            /* the flow continued the work of a cut run */
    uint16_t sw;             /* the card's last status word */
    char reason[160];        /* why it failed, in words; empty on success */
} seam_perso_report;

/* Personalization data for one instance of a package (P6), the STORE DATA payload the
   operator gave for it (one block, P1 90). */
typedef struct {
    seam_gp_aid instance;
    const uint8_t *data;
    size_t len; /* 1..255 */
} seam_perso_data;

/* P6: personalizes module[0..len) with perso[0..n) (its seam.perso section), loads and
   installs it through the domain (instance perso[0].instance of the package's first
   applet, privileges 00), files its record in the store (P4) and then sets the instance
   PERSONALIZED. Called again after a cut (same module and perso), it reads the card first
   and sends only the steps not done (report->resumed when the package was there). n must be 1
   (SEAM_ERR_ARG otherwise): a package's seam.perso section personalizes every instance made from
   it. Refused on the card: SEAM_OK with report->sw and report->reason, nothing kept there (a
   package this call loaded is deleted again). Errors: SEAM_ERR_ARG, SEAM_ERR_GP_PACKAGE,
   SEAM_ERR_PERSO_WRONG_CARD (the card's CIN is not actor->cin), gp's and the store's; a module
   that carries a seam.perso section already: SEAM_ERR_GP_PACKAGE, logged, nothing sent (so
   for update and restore too). */
seam_err seam_perso_install(const seam_perso_actor *actor, const uint8_t *module, size_t len,
                            const seam_perso_data *perso, size_t n, seam_perso_report *report);

/* P9: updates the domain's package to the version in module[0..len): MANAGE ELF UPGRADE
   start, export of each of the domain's instances of it (R-ENC under the domain's
   session) into the store, the new version personalized from the records, INSTALL [for
   load] + LOAD, DGI 7F71 of each record's entries, migrate; a journal in the store makes
   the flow resumable: called again after a cut, it reads the card's upgrade status and
   continues (report->resumed); called with another package file while a journal is there:
   SEAM_ERR_PERSO_DENIED. The domain holding no instance of the package, or the card
   refusing a step: SEAM_OK with report->sw and report->reason, logged; a step refused after
   the start is rolled back (new version deleted, MANAGE ELF UPGRADE abort, journal deleted).
   Errors as seam_perso_install. */
seam_err seam_perso_update(const seam_perso_actor *actor, const uint8_t *module, size_t len,
                           seam_perso_report *report);

/* Forgets the journal seam_perso_update keeps for actor's update of package, after the
   caller rolled that update back on the card (MANAGE ELF UPGRADE abort): one transaction,
   the records stay; SEAM_OK when there is none. Without this, every later update of the
   package with another file is SEAM_ERR_PERSO_DENIED. Errors: SEAM_ERR_PERSO_STORE. */
seam_err seam_perso_update_forget(const seam_perso_actor *actor, const seam_gp_aid *package);

/* P4: installs module[0..len) again for instance (an application the card lost, its
   record deleted), personalized from the store's record of that identity, and puts its
   entries back (DGI 7F71). The record is released only here, after the card accepted the
   INSTALL [for load] in the domain's session (the LOAD blocks carry the personalized
   file), and only for the same identity and package; any other use is refused
   (SEAM_ERR_PERSO_DENIED) and logged, as is a restore of an identity the store holds no
   record of. A record that does not open (for another identity, tampered):
   SEAM_ERR_PERSO_SEAL, logged, nothing sent; a module older than the version the record was
   exported from: SEAM_ERR_PERSO_DENIED, logged, nothing sent. */
seam_err seam_perso_restore(const seam_perso_actor *actor, const uint8_t *module, size_t len,
                            const seam_gp_aid *instance, seam_perso_report *report);

/* ---- deliveries (P6, P9 over the server-side connection) ---------------------------- */

/* A delivery is what the admin server sends a terminal for one step of an install or update
   campaign personalized in the terminal (docs/server.md "Terminal campaigns"): one TLV,
     E5 { 45 CIN, 80 kind (01 install, 02 update), C4 package module,
          A1 { 4F instance AID, 82 sealed perso }* (install only, one per instance) }
   each sealed perso being seam_perso_seal of the instance's STORE DATA payload for the
   terminal's public key, bound to seam_perso_delivery_aad. The terminal answers with a result:
     E6 { 80 outcome (00 ok, 01 failed), 81 SW (2 bytes), 82 reason (0..159 printable ASCII) }
   Both codecs check every field and every bound, never read past their input and never
   allocate: decoded pointers point into the input. */

#define SEAM_PERSO_DELIVERY_MAX        (256u * 1024u) /* bytes of one encoded delivery */
#define SEAM_PERSO_DELIVERY_MODULE_MAX (240u * 1024u) /* bytes of the package module in it */
#define SEAM_PERSO_DELIVERY_INSTANCES  16u            /* instances with sealed perso */
#define SEAM_PERSO_DELIVERY_DATA_MAX   255u /* plain perso bytes of one instance (one block) */
#define SEAM_PERSO_DELIVERY_AAD_MAX    96u  /* bytes of seam_perso_delivery_aad's output */
#define SEAM_PERSO_RESULT_REASON_MAX   159u /* characters of a result's reason */
#define SEAM_PERSO_RESULT_MAX          (SEAM_PERSO_RESULT_REASON_MAX + 16u)

typedef enum {
    SEAM_PERSO_DELIVER_INSTALL = 1, /* P6: load, install, personalize in the terminal */
    SEAM_PERSO_DELIVER_UPDATE = 2,  /* P9: update, personalized from the card's records */
} seam_perso_delivery_kind;

/* One instance's personalization, sealed for the terminal. */
typedef struct {
    seam_gp_aid instance;
    const uint8_t *sealed; /* SEAM_PERSO_SEAL_OVERHEAD + 1 .. + SEAM_PERSO_DELIVERY_DATA_MAX */
    size_t sealed_len;
} seam_perso_sealed;

typedef struct {
    uint8_t cin[SEAM_PERSO_CIN_MAX]; /* the card the delivery is for */
    size_t cin_len;                  /* 1..16 */
    seam_perso_delivery_kind kind;
    const uint8_t *module; /* the package, unpersonalized: 1..SEAM_PERSO_DELIVERY_MODULE_MAX */
    size_t module_len;
    size_t count; /* instances with sealed perso: install 0..16 (distinct AIDs), update 0 */
    seam_perso_sealed perso[SEAM_PERSO_DELIVERY_INSTANCES];
} seam_perso_delivery;

/* Writes the AAD a delivery's sealed perso is bound to: the card's CIN, the package's AID
   and version, the instance's AID, into out[0..cap). SEAM_ERR_ARG (a length out of range),
   SEAM_ERR_BUFFER_SMALL. */
seam_err seam_perso_delivery_aad(const uint8_t *cin, size_t cin_len, const seam_gp_aid *package,
                                 uint16_t version, const seam_gp_aid *instance, uint8_t *out,
                                 size_t cap, size_t *out_len);

/* Encodes d into out[0..cap). SEAM_ERR_ARG (a field out of the bounds above),
   SEAM_ERR_BUFFER_SMALL (size in *out_len). */
seam_err seam_perso_delivery_encode(const seam_perso_delivery *d, uint8_t *out, size_t cap,
                                    size_t *out_len);

/* Decodes a delivery from data[0..len) (exactly one TLV). Errors: SEAM_ERR_TRUNCATED,
   SEAM_ERR_MALFORMED (unknown tag, a field missing or repeated, a bound above, perso in an
   update, an instance twice, len above SEAM_PERSO_DELIVERY_MAX); *out unchanged on error. */
seam_err seam_perso_delivery_decode(const uint8_t *data, size_t len, seam_perso_delivery *out);

/* What the terminal answers a delivery with. */
typedef struct {
    bool ok;
    uint16_t sw;                                   /* the card's last status word (0: none) */
    char reason[SEAM_PERSO_RESULT_REASON_MAX + 1]; /* NUL-terminated, printable ASCII */
} seam_perso_result;

/* Encodes r into out[0..cap); a reason longer than the bound is cut there and bytes that are
   not printable ASCII are written as '?'. SEAM_ERR_BUFFER_SMALL (size in *out_len). */
seam_err seam_perso_result_encode(const seam_perso_result *r, uint8_t *out, size_t cap,
                                  size_t *out_len);

/* Decodes a result from data[0..len). Errors: SEAM_ERR_TRUNCATED, SEAM_ERR_MALFORMED (unknown
   tag, a field missing or repeated, an outcome other than 00/01, a reason not printable or
   too long); *out unchanged on error. */
seam_err seam_perso_result_decode(const uint8_t *data, size_t len, seam_perso_result *out);

#endif
