/*
 * The store's tables, shared by both drivers: the includer defines ID (an
 * auto-numbered primary key) and BLOB (a byte string type) first. Every integer is
 * BIGINT so both drivers read 64-bit values. States and kinds are the numbers of the
 * enums in server/store.h.
 */
#ifndef STORE_SCHEMA
#define STORE_SCHEMA                                                                               \
    "CREATE TABLE IF NOT EXISTS store_meta (name TEXT PRIMARY KEY, value " BLOB " NOT NULL)",      \
        "CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",        \
        "CREATE TABLE IF NOT EXISTS packages (aid " BLOB " NOT NULL, version BIGINT NOT NULL, "    \
        "uploaded BIGINT NOT NULL, module " BLOB " NOT NULL, PRIMARY KEY (aid, version))",         \
        "CREATE TABLE IF NOT EXISTS cards (cin " BLOB " PRIMARY KEY, iin " BLOB " NOT NULL, "      \
        "created BIGINT NOT NULL)",                                                                \
        "CREATE TABLE IF NOT EXISTS keysets (cin " BLOB " NOT NULL REFERENCES cards (cin), "       \
        "sd_aid " BLOB " NOT NULL, kvn BIGINT NOT NULL, sealed " BLOB " NOT NULL, "                \
        "PRIMARY KEY (cin, sd_aid, kvn))",                                                         \
        "CREATE TABLE IF NOT EXISTS perso (cin " BLOB " NOT NULL REFERENCES cards (cin), "         \
        "app_aid " BLOB " NOT NULL, sealed " BLOB " NOT NULL, updated BIGINT NOT NULL, "           \
        "PRIMARY KEY (cin, app_aid))",                                                             \
        "CREATE TABLE IF NOT EXISTS card_terminals (cin " BLOB " PRIMARY KEY REFERENCES cards "    \
        "(cin), public_key " BLOB " NOT NULL, updated BIGINT NOT NULL)",                           \
        "CREATE TABLE IF NOT EXISTS campaigns (id " ID ", kind BIGINT NOT NULL, "                  \
        "package_aid " BLOB " NOT NULL, package_version BIGINT NOT NULL, params TEXT NOT NULL, "   \
        "created BIGINT NOT NULL, state BIGINT NOT NULL)",                                         \
        "CREATE TABLE IF NOT EXISTS targets (campaign BIGINT NOT NULL REFERENCES campaigns (id), " \
        "cin " BLOB " NOT NULL REFERENCES cards (cin), seq BIGINT NOT NULL, "                      \
        "state BIGINT NOT NULL, reason TEXT NOT NULL, owner TEXT NOT NULL, "                       \
        "lease_until BIGINT NOT NULL, claims BIGINT NOT NULL, PRIMARY KEY (campaign, cin))",       \
        "CREATE INDEX IF NOT EXISTS targets_by_state ON targets (state, campaign, seq)",           \
        "CREATE INDEX IF NOT EXISTS targets_by_card ON targets (cin, state)",                      \
        "CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, cin " BLOB " NOT NULL, "        \
        "campaign BIGINT NOT NULL, step TEXT NOT NULL, round BIGINT NOT NULL, "                    \
        "expected BIGINT NOT NULL, closed BIGINT NOT NULL, sealed " BLOB " NOT NULL, "             \
        "created BIGINT NOT NULL, updated BIGINT NOT NULL)",                                       \
        "CREATE TABLE IF NOT EXISTS byte_counts (campaign BIGINT NOT NULL, cin " BLOB              \
        " NOT NULL, step TEXT NOT NULL, request BIGINT NOT NULL, response BIGINT NOT NULL, "       \
        "perso BIGINT NOT NULL, PRIMARY KEY (campaign, cin, step))",                               \
        "CREATE TABLE IF NOT EXISTS events (id " ID ", cin " BLOB " NOT NULL, "                    \
        "campaign BIGINT NOT NULL, at BIGINT NOT NULL, kind TEXT NOT NULL, message TEXT NOT "      \
        "NULL)",                                                                                   \
        "CREATE INDEX IF NOT EXISTS events_by_card ON events (cin, id)",                           \
        "CREATE INDEX IF NOT EXISTS events_by_campaign ON events (campaign, id)",                  \
        "CREATE TABLE IF NOT EXISTS devices (id TEXT PRIMARY KEY, cin " BLOB " NOT NULL, "         \
        "created BIGINT NOT NULL, updated BIGINT NOT NULL, counter BIGINT NOT NULL)",              \
        "CREATE INDEX IF NOT EXISTS devices_by_cin ON devices (cin)",                              \
        "CREATE TABLE IF NOT EXISTS device_records (device TEXT NOT NULL REFERENCES devices "      \
        "(id), "                                                                                   \
        "uri TEXT NOT NULL, key TEXT NOT NULL, version BIGINT NOT NULL, deleted BIGINT NOT NULL, " \
        "updated BIGINT NOT NULL, sealed " BLOB " NOT NULL, PRIMARY KEY (device, uri, key))",      \
        "CREATE INDEX IF NOT EXISTS device_records_by_version ON device_records (device, "         \
        "version)",                                                                                \
        "CREATE INDEX IF NOT EXISTS device_records_by_uri ON device_records (uri, deleted)",       \
        "CREATE TABLE IF NOT EXISTS device_history (id " ID ", device TEXT NOT NULL, "             \
        "uri TEXT NOT NULL, key TEXT NOT NULL, session TEXT NOT NULL, at BIGINT NOT NULL, "        \
        "version BIGINT NOT NULL, old_exists BIGINT NOT NULL, new_deleted BIGINT NOT NULL, "       \
        "old_sealed " BLOB " NOT NULL, new_sealed " BLOB " NOT NULL)",                             \
        "CREATE INDEX IF NOT EXISTS device_history_by_device ON device_history (device, id)",      \
        "CREATE TABLE IF NOT EXISTS device_secrets (device TEXT PRIMARY KEY REFERENCES devices "   \
        "(id), sealed " BLOB " NOT NULL, updated BIGINT NOT NULL)",                                \
        "CREATE TABLE IF NOT EXISTS device_sync (device TEXT NOT NULL REFERENCES devices (id), "   \
        "protocol TEXT NOT NULL, uri TEXT NOT NULL, sealed " BLOB " NOT NULL, "                    \
        "updated BIGINT NOT NULL, PRIMARY KEY (device, protocol, uri))",                           \
        "CREATE TABLE IF NOT EXISTS device_anchors (device TEXT NOT NULL, uri TEXT NOT NULL, "     \
        "peer_last TEXT NOT NULL, own_last TEXT NOT NULL, synced BIGINT NOT NULL, "                \
        "PRIMARY KEY (device, uri))",                                                              \
        "CREATE TABLE IF NOT EXISTS device_map (device TEXT NOT NULL, uri TEXT NOT NULL, "         \
        "luid TEXT NOT NULL, guid TEXT NOT NULL, PRIMARY KEY (device, uri, luid))"
#endif
