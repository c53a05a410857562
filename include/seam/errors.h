/*
 * seam error codes: one space for the whole library.
 *
 * Every function that can fail returns a seam_err; 0 means success and every
 * failure is negative. Each layer owns one range, so a code names the layer
 * that raised it:
 *
 *   range            layer      meaning
 *   ---------------  ---------  ------------------------------------------
 *   -1    .. -99     util       arguments, memory, buffers, codecs, I/O
 *   -100  .. -199    crypto     libcrypto failures, bad keys, MAC mismatch
 *   -200  .. -299    nvm        the card image: storage, capacity, power cut
 *   -300  .. -399    wasm       decoding, validation, linking, traps
 *   -400  .. -499    card       APDU processing, registry, GP state
 *   -500  .. -599    link       transports to a card (-550.. host links: PC/SC)
 *   -600  .. -699    sync       SyncML and changesets
 *   -700  .. -799    terminal   terminal agent
 *   -800  .. -899    server     HTTP server and storage backends
 *   -900  .. -999    cli        the seam command
 *   -1000 .. -1099   gp         the host side of GlobalPlatform
 *   -1100 .. -1199   syncml     OMA DS 1.2: the SyncML codec and session engines
 *
 * ISO 7816 status words are data carried in responses, never seam_err values.
 */
#ifndef SEAM_ERRORS_H
#define SEAM_ERRORS_H

typedef int seam_err;

enum {
    SEAM_OK = 0,

    /* util */
    SEAM_ERR_ARG = -1,          /* an argument is out of its documented range */
    SEAM_ERR_NOMEM = -2,        /* an allocation failed */
    SEAM_ERR_BUFFER_SMALL = -3, /* the caller's output buffer is too small */
    SEAM_ERR_TRUNCATED = -4,    /* the input ends before the encoding does */
    SEAM_ERR_MALFORMED = -5,    /* the input breaks its encoding rules */
    SEAM_ERR_IO = -6,           /* an operating-system call failed */
    SEAM_ERR_NOT_FOUND = -7,    /* the requested item does not exist */
    SEAM_ERR_UNSUPPORTED = -8,  /* valid but not implemented by seam */

    /* crypto */
    SEAM_ERR_CRYPTO = -100,         /* libcrypto reported a failure */
    SEAM_ERR_CRYPTO_KEY = -101,     /* a key has the wrong length or form */
    SEAM_ERR_CRYPTO_AUTH = -102,    /* a MAC or signature does not verify */
    SEAM_ERR_CRYPTO_PADDING = -103, /* decrypted data lacks its 80 00.. padding */

    /* nvm */
    SEAM_ERR_NVM = -200,           /* the storage engine reported a failure */
    SEAM_ERR_NVM_FULL = -201,      /* the card's capacity would be exceeded */
    SEAM_ERR_NVM_POWER_CUT = -202, /* an injected power cut: the image is frozen */
    SEAM_ERR_NVM_STATE = -203,     /* call not allowed in the transaction's state */
    SEAM_ERR_NVM_CORRUPT = -204,   /* the image is not a seam card image */
    SEAM_ERR_NVM_KEY = -210,       /* the storage key does not open this image (wrong or none) */
    SEAM_ERR_NVM_BUSY = -211,      /* another handle or process holds the image */

    /* wasm */
    SEAM_ERR_WASM_MALFORMED = -300, /* the binary does not decode */
    SEAM_ERR_WASM_INVALID = -301,   /* the module decodes but does not validate */
    SEAM_ERR_WASM_LINK = -302,      /* an import is missing or has the wrong type */
    SEAM_ERR_WASM_TRAP = -303,      /* execution trapped; see the trap record */
    SEAM_ERR_WASM_LIMIT = -304,     /* an embedder limit refuses the module */
    SEAM_ERR_WASM_EXPORT = -305,    /* no export of that name and kind */
    SEAM_ERR_WASM_SIGNATURE = -306, /* call with the wrong argument types */

    /* card */
    SEAM_ERR_CARD = -400,
    SEAM_ERR_CARD_PACKAGE_MISSING = -401,   /* the module has no seam.package section */
    SEAM_ERR_CARD_PACKAGE_MALFORMED = -402, /* package metadata breaks its encoding rules */
    SEAM_ERR_CARD_PACKAGE_FIELD = -403,     /* a package field is missing or repeated */
    SEAM_ERR_CARD_PLATFORM = -404,          /* the package needs a newer platform */
    SEAM_ERR_CARD_APPLET = -405,            /* the module lacks an applet entry point */
    SEAM_ERR_CARD_IMAGE = -406,             /* a memory image does not fit the applet */
    SEAM_ERR_CARD_CLA = -440,               /* class byte reserved or invalid (answer 6E00) */
    SEAM_ERR_CARD_KEY_FILE = -470,   /* the image's storage key file is missing or unusable */
    SEAM_ERR_CARD_KEY_EXISTS = -471, /* a storage key file is already there: not overwritten */

    /* link */
    SEAM_ERR_LINK = -500,
    SEAM_ERR_LINK_CLOSED = -501,
    SEAM_ERR_LINK_OVERSIZE = -502, /* a frame is longer than the receiver accepts */
    SEAM_ERR_LINK_ADDRESS = -503,  /* the host name does not resolve */
    /* host links (PC/SC) */
    SEAM_ERR_LINK_NO_SERVICE = -550, /* PC/SC is not available: pcscd is not running */
    SEAM_ERR_LINK_NO_READER = -551,  /* no reader of that name, or none at all */
    SEAM_ERR_LINK_NO_CARD = -552,    /* the reader holds no card, or it was removed */

    /* sync: the device-management database and the compact changeset protocol */
    SEAM_ERR_SYNC_DB = -600,        /* the sync database (SQLite) reported a failure */
    SEAM_ERR_SYNC_URI = -601,       /* no database of that URI */
    SEAM_ERR_SYNC_FIELD = -602,     /* a key or field is empty, too long or not plain text */
    SEAM_ERR_SYNC_FULL = -603,      /* the database would hold more records than it may */
    SEAM_ERR_SYNC_FRAME = -604,     /* a sync message is malformed (magic, lengths, CRC) */
    SEAM_ERR_SYNC_VERSION = -605,   /* a sync message of a protocol version seam does not speak */
    SEAM_ERR_SYNC_CHANGESET = -606, /* the changes in a message do not decode or break the schema */
    SEAM_ERR_SYNC_MISMATCH = -607,  /* the changes do not fit this database's state */
    SEAM_ERR_SYNC_STATE = -608,     /* a sync engine call out of order */
    SEAM_ERR_SYNC_OVERSIZE = -609,  /* a sync message is larger than accepted */

    /* terminal: the card's admin agent (include/seam/terminal.h) */
    SEAM_ERR_TERMINAL = -700,             /* libcurl could not be set up */
    SEAM_ERR_TERMINAL_UNREACHABLE = -701, /* the server stayed unreachable or failing (5xx) */
    SEAM_ERR_TERMINAL_REFUSED = -702,     /* the server refused a request (4xx) */
    SEAM_ERR_TERMINAL_PROTOCOL = -703,    /* the server's answer breaks the admin protocol */
    SEAM_ERR_TERMINAL_OVERSIZE = -704,    /* a script is longer than the terminal accepts */
    SEAM_ERR_TERMINAL_NO_CIN = -705,      /* the card has no CIN and none was given */
    SEAM_ERR_TERMINAL_STATE = -706,       /* the terminal's local state failed */
    SEAM_ERR_TERMINAL_STOPPED = -707,     /* the session was stopped (signal) */
    SEAM_ERR_TERMINAL_TLS = -708,         /* the server's certificate did not verify (--cacert) */

    /* server: the HTTP side (-800 .. -849) */
    SEAM_ERR_SERVER_LISTEN = -800, /* the server could not listen on its address */
    SEAM_ERR_SERVER_CONFIG = -801, /* the server folder or its config is missing or wrong */

    /* server: storage (src/server/store.h; -850 .. -869) */
    SEAM_ERR_SERVER_STORE = -850,      /* the database reported a failure */
    SEAM_ERR_SERVER_CONFLICT = -851,   /* already exists, or a state change that is not allowed */
    SEAM_ERR_SERVER_MASTER_KEY = -852, /* the master key does not open this store */
    SEAM_ERR_SERVER_KEY_FILE = -853,   /* the master key file is missing, malformed or too open */
    SEAM_ERR_SERVER_KEY_EXISTS = -854, /* a master key file is already there: not overwritten */

    /* server: TLS (docs/server.md "TLS"; -880 .. -889) */
    SEAM_ERR_SERVER_TLS = -880, /* the TLS key or certificate is missing, unusable or too open */
    SEAM_ERR_SERVER_TLS_EXISTS = -881,    /* a TLS key or certificate file is already there */
    SEAM_ERR_SERVER_INSECURE_HTTP = -882, /* plain HTTP beyond loopback without --insecure-http */

    /* cli */
    SEAM_ERR_CLI_USAGE = -900,
    SEAM_ERR_CLI_MISMATCH = -901, /* a checked result differs from the expected one */

    /* gp: the host side of GlobalPlatform (include/seam/gp.h) */
    SEAM_ERR_GP = -1000,
    SEAM_ERR_GP_CRYPTOGRAM = -1001, /* the card cryptogram does not verify: not these keys */
    SEAM_ERR_GP_CHANNEL = -1002,    /* the operation needs an open secure channel */
    SEAM_ERR_GP_RESPONSE = -1003, /* the card's answer does not decode or is not the expected one */
    SEAM_ERR_GP_PACKAGE = -1004,  /* the file is not a seam package */
    SEAM_ERR_GP_SCRIPT = -1005,   /* a response script does not answer the command script sent */

    /* syncml: OMA DS 1.2 (include/seam/syncml.h) */
    SEAM_ERR_SYNCML_MALFORMED = -1100, /* the message is not a well-formed SyncML message */
    SEAM_ERR_SYNCML_OVERSIZE = -1101,  /* a message, item count or item is over its limit */
    SEAM_ERR_SYNCML_DTD = -1102,       /* the message declares a DTD subset or entities */
    SEAM_ERR_SYNCML_VERSION = -1103,   /* not SyncML 1.2 */
    SEAM_ERR_SYNCML_WBXML = -1104,     /* the WBXML does not decode */
    SEAM_ERR_SYNCML_PROTOCOL = -1105,  /* the peer's message does not fit the session's state */
    SEAM_ERR_SYNCML_STORE = -1106,     /* the record store failed during a session */

    /* perso: personalization and restore outside the card (include/seam/perso.h) */
    SEAM_ERR_PERSO_KEY_FILE = -1200,   /* a domain or terminal key file others may read */
    SEAM_ERR_PERSO_SEAL = -1201,       /* sealed data or a stored record does not open */
    SEAM_ERR_PERSO_DENIED = -1202,     /* a restore record asked for outside an authorized load */
    SEAM_ERR_PERSO_WRONG_CARD = -1203, /* the card is not the one the data is for */
    SEAM_ERR_PERSO_STORE = -1204,      /* the restore store failed (SQLite) */

    /* flashcard: the secure flash card controller (include/seam/flashcard.h): -1300 .. -1399 */
    SEAM_ERR_FLASHCARD_FRAME = -1300,      /* a host frame that does not decode */
    SEAM_ERR_FLASHCARD_FLASH = -1301,      /* the flash (its SQLite file) failed */
    SEAM_ERR_FLASHCARD_POWER_CUT = -1302,  /* power was cut (fault injection); power on again */
    SEAM_ERR_FLASHCARD_WRONG_CARD = -1303, /* a package for another card (its CIN) */
    SEAM_ERR_FLASHCARD_TAMPERED = -1304,   /* a row of the flash does not match its digest */
    SEAM_ERR_FLASHCARD_REFUSED = -1305,    /* the card refused a step of the controller's flow */
    SEAM_ERR_FLASHCARD_NO_PACKAGE = -1306, /* no stored package of that AID */
};

/* Returns a static, human-readable name for err; never NULL. */
const char *seam_err_str(seam_err err);

#endif
