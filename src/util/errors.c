/*
 * seam_err_str: one message per code in include/seam/errors.h. The util
 * tests read errors.h and fail when a code has no message here.
 */
#include "seam/errors.h"

const char *seam_err_str(seam_err err) {
    const char *message = "unknown error";
    switch (err) {
    case SEAM_OK:
        message = "ok";
        break;
    case SEAM_ERR_ARG:
        message = "argument out of range";
        break;
    case SEAM_ERR_NOMEM:
        message = "out of memory";
        break;
    case SEAM_ERR_BUFFER_SMALL:
        message = "output buffer too small";
        break;
    case SEAM_ERR_TRUNCATED:
        message = "input truncated";
        break;
    case SEAM_ERR_MALFORMED:
        message = "malformed input";
        break;
    case SEAM_ERR_IO:
        message = "I/O error";
        break;
    case SEAM_ERR_NOT_FOUND:
        message = "not found";
        break;
    case SEAM_ERR_UNSUPPORTED:
        message = "not supported";
        break;
    case SEAM_ERR_CRYPTO:
        message = "cryptographic library failure";
        break;
    case SEAM_ERR_CRYPTO_KEY:
        message = "bad key length or form";
        break;
    case SEAM_ERR_CRYPTO_AUTH:
        message = "MAC or signature does not verify";
        break;
    case SEAM_ERR_CRYPTO_PADDING:
        message = "bad padding in decrypted data";
        break;
    case SEAM_ERR_NVM:
        message = "card storage failure";
        break;
    case SEAM_ERR_NVM_FULL:
        message = "card capacity exceeded";
        break;
    case SEAM_ERR_NVM_POWER_CUT:
        message = "power cut (injected)";
        break;
    case SEAM_ERR_NVM_STATE:
        message = "not allowed in this transaction state";
        break;
    case SEAM_ERR_NVM_CORRUPT:
        message = "not a seam card image";
        break;
    case SEAM_ERR_NVM_KEY:
        message = "the storage key does not open this image (wrong key, no key, or an image "
                  "not sealed with one)";
        break;
    case SEAM_ERR_NVM_BUSY:
        message = "the image is in use by another handle or process";
        break;
    case SEAM_ERR_WASM_MALFORMED:
        message = "wasm: malformed binary";
        break;
    case SEAM_ERR_WASM_INVALID:
        message = "wasm: module does not validate";
        break;
    case SEAM_ERR_WASM_LINK:
        message = "wasm: import missing or of the wrong type";
        break;
    case SEAM_ERR_WASM_TRAP:
        message = "wasm: trap";
        break;
    case SEAM_ERR_WASM_LIMIT:
        message = "wasm: embedder limit exceeded";
        break;
    case SEAM_ERR_WASM_EXPORT:
        message = "wasm: no such export";
        break;
    case SEAM_ERR_WASM_SIGNATURE:
        message = "wasm: wrong argument types";
        break;
    case SEAM_ERR_CARD:
        message = "card error";
        break;
    case SEAM_ERR_CARD_PACKAGE_MISSING:
        message = "package metadata section missing";
        break;
    case SEAM_ERR_CARD_PACKAGE_MALFORMED:
        message = "malformed package metadata";
        break;
    case SEAM_ERR_CARD_PACKAGE_FIELD:
        message = "package metadata field missing or repeated";
        break;
    case SEAM_ERR_CARD_PLATFORM:
        message = "package requires a newer platform";
        break;
    case SEAM_ERR_CARD_APPLET:
        message = "module is not a valid applet";
        break;
    case SEAM_ERR_CARD_IMAGE:
        message = "memory image does not fit the applet";
        break;
    case SEAM_ERR_CARD_CLA:
        message = "class byte not supported";
        break;
    case SEAM_ERR_CARD_KEY_FILE:
        message = "the card's storage key file is missing, unreadable or malformed";
        break;
    case SEAM_ERR_CARD_KEY_EXISTS:
        message = "a storage key file already exists for this image; it is not overwritten";
        break;
    case SEAM_ERR_LINK:
        message = "link error";
        break;
    case SEAM_ERR_LINK_CLOSED:
        message = "link closed";
        break;
    case SEAM_ERR_LINK_OVERSIZE:
        message = "link frame too long";
        break;
    case SEAM_ERR_LINK_ADDRESS:
        message = "link host does not resolve";
        break;
    case SEAM_ERR_LINK_NO_SERVICE:
        message = "PC/SC not available (is pcscd running?)";
        break;
    case SEAM_ERR_LINK_NO_READER:
        message = "no such reader";
        break;
    case SEAM_ERR_LINK_NO_CARD:
        message = "no card in the reader";
        break;
    case SEAM_ERR_SYNC_DB:
        message = "sync: database failure";
        break;
    case SEAM_ERR_SYNC_URI:
        message = "sync: no database of that URI";
        break;
    case SEAM_ERR_SYNC_FIELD:
        message = "sync: a key or field is empty, too long or not plain text";
        break;
    case SEAM_ERR_SYNC_FULL:
        message = "sync: the database would hold too many records";
        break;
    case SEAM_ERR_SYNC_FRAME:
        message = "sync: malformed message (magic, lengths or CRC)";
        break;
    case SEAM_ERR_SYNC_VERSION:
        message = "sync: unsupported protocol version";
        break;
    case SEAM_ERR_SYNC_CHANGESET:
        message = "sync: the changes do not decode or break the schema";
        break;
    case SEAM_ERR_SYNC_MISMATCH:
        message = "sync: the changes do not fit this database";
        break;
    case SEAM_ERR_SYNC_STATE:
        message = "sync: call out of order";
        break;
    case SEAM_ERR_SYNC_OVERSIZE:
        message = "sync: message too large";
        break;
    case SEAM_ERR_TERMINAL:
        message = "HTTP client setup failed";
        break;
    case SEAM_ERR_TERMINAL_UNREACHABLE:
        message = "admin server unreachable";
        break;
    case SEAM_ERR_TERMINAL_REFUSED:
        message = "admin server refused the request";
        break;
    case SEAM_ERR_TERMINAL_PROTOCOL:
        message = "admin server answer breaks the protocol";
        break;
    case SEAM_ERR_TERMINAL_OVERSIZE:
        message = "remote script too large";
        break;
    case SEAM_ERR_TERMINAL_NO_CIN:
        message = "card has no CIN";
        break;
    case SEAM_ERR_TERMINAL_STATE:
        message = "terminal state failed";
        break;
    case SEAM_ERR_TERMINAL_STOPPED:
        message = "stopped";
        break;
    case SEAM_ERR_TERMINAL_TLS:
        message = "the server's TLS certificate did not verify (not signed by --cacert, or not "
                  "issued for the server's name)";
        break;
    case SEAM_ERR_SERVER_LISTEN:
        message = "the server could not listen on its address";
        break;
    case SEAM_ERR_SERVER_CONFIG:
        message = "the server folder or its config is missing or wrong";
        break;
    case SEAM_ERR_SERVER_STORE:
        message = "server storage: the database reported a failure";
        break;
    case SEAM_ERR_SERVER_CONFLICT:
        message = "server storage: already exists, or a state change that is not allowed";
        break;
    case SEAM_ERR_SERVER_MASTER_KEY:
        message = "server storage: the master key does not open this store";
        break;
    case SEAM_ERR_SERVER_KEY_FILE:
        message = "server master key file missing, malformed or readable by others";
        break;
    case SEAM_ERR_SERVER_KEY_EXISTS:
        message = "a server master key file is already there: not overwritten";
        break;
    case SEAM_ERR_SERVER_TLS:
        message = "the server's TLS key or certificate is missing, unusable or readable by others "
                  "(or libmicrohttpd lacks TLS)";
        break;
    case SEAM_ERR_SERVER_TLS_EXISTS:
        message = "a server TLS key or certificate file is already there: not overwritten";
        break;
    case SEAM_ERR_SERVER_INSECURE_HTTP:
        message = "plain HTTP on a non-loopback address is refused: serve TLS (the default "
                  "there) or give --insecure-http";
        break;
    case SEAM_ERR_CLI_USAGE:
        message = "usage error";
        break;
    case SEAM_ERR_CLI_MISMATCH:
        message = "result differs from the expected one";
        break;
    case SEAM_ERR_GP:
        message = "GlobalPlatform host error";
        break;
    case SEAM_ERR_GP_CRYPTOGRAM:
        message = "the card cryptogram does not verify (wrong keys)";
        break;
    case SEAM_ERR_GP_CHANNEL:
        message = "no secure channel is open";
        break;
    case SEAM_ERR_GP_RESPONSE:
        message = "unexpected answer from the card";
        break;
    case SEAM_ERR_GP_PACKAGE:
        message = "not a seam package";
        break;
    case SEAM_ERR_GP_SCRIPT:
        message = "the response script does not answer the command script sent";
        break;
    case SEAM_ERR_SYNCML_MALFORMED:
        message = "the SyncML message is malformed";
        break;
    case SEAM_ERR_SYNCML_OVERSIZE:
        message = "the SyncML message, its item count or an item is over its limit";
        break;
    case SEAM_ERR_SYNCML_DTD:
        message = "the SyncML message declares a DTD subset or entities (refused)";
        break;
    case SEAM_ERR_SYNCML_VERSION:
        message = "the message is not SyncML 1.2";
        break;
    case SEAM_ERR_SYNCML_WBXML:
        message = "the SyncML WBXML does not decode";
        break;
    case SEAM_ERR_SYNCML_PROTOCOL:
        message = "the peer's SyncML message does not fit the session's state";
        break;
    case SEAM_ERR_SYNCML_STORE:
        message = "the record store failed during the sync session";
        break;
    case SEAM_ERR_PERSO_KEY_FILE:
        message = "the key file may be read by others than its owner";
        break;
    case SEAM_ERR_PERSO_SEAL:
        message = "the sealed data or restore record does not open (another card, identity or "
                  "terminal, or tampered)";
        break;
    case SEAM_ERR_PERSO_DENIED:
        message = "a restore record is released only into an authorized load of its application";
        break;
    case SEAM_ERR_PERSO_WRONG_CARD:
        message = "the card is not the one the data is for";
        break;
    case SEAM_ERR_PERSO_STORE:
        message = "the restore store failed";
        break;
    case SEAM_ERR_FLASHCARD_FRAME:
        message = "the flash card's host frame does not decode";
        break;
    case SEAM_ERR_FLASHCARD_FLASH:
        message = "the flash card's flash failed";
        break;
    case SEAM_ERR_FLASHCARD_POWER_CUT:
        message = "the flash card lost power; power it on again";
        break;
    case SEAM_ERR_FLASHCARD_WRONG_CARD:
        message = "the package is for another card (its CIN is not this card's)";
        break;
    case SEAM_ERR_FLASHCARD_TAMPERED:
        message = "a record of the flash card's flash does not match its digest";
        break;
    case SEAM_ERR_FLASHCARD_REFUSED:
        message = "the card refused a step of the flash card controller's flow";
        break;
    case SEAM_ERR_FLASHCARD_NO_PACKAGE:
        message = "the flash holds no package of that AID";
        break;
    default:
        break;
    }
    return message;
}
