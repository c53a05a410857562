/*
 * An applet instance's memory in the card image (issue 11, finer dirty
 * tracking; store/memory_store.h): chunks of STORE_CHUNK_SIZE bytes that
 * differ from the module's initial image, instead of whole 4 KiB pages.
 *
 * - The store: a commit puts exactly the chunks that changed, deletes those
 *   back to the initial image, never stores the stack; what it reads back is
 *   the memory; records that do not fit the layout are corrupt.
 * - The card: a purse DEBIT puts one to three chunk records (its counters and
 *   a log entry), no stored chunk equals the initial image.
 * - An image of an earlier version (4 KiB pages over zeros, table 7) is read
 *   and stored as chunks at the first power-up, with a power cut at every
 *   write point of that conversion leaving the card as it was (X4).
 */
#include "card_host.h"

#include "card/applet/applet_runtime.h"
#include "card/store/memory_store.h"
#include "card/store/schema.h"

static const uint8_t purse_pkg[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55};
static const uint8_t purse_cls[] = {0xA0, 0x00, 0x00, 0x05, 0x50, 0x55, 0x01};
static const uint8_t purse_params[] = {4, '1', '2', '3', '4', 0, 0, 0x27, 0x10}; /* 10000 */

#define MEMORY_PAGES 2u /* 64 KiB pages of the store test's memory */
#define MEMORY_SIZE  (MEMORY_PAGES * 65536u)

static int count_visit(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                       size_t value_len) {
    (void)key, (void)key_len, (void)value, (void)value_len;
    (*(size_t *)ctx)++;
    return 0;
}

/* Records of table under the instance prefix len || aid. */
static size_t records_of(seam_nvm *nvm, uint16_t table, const uint8_t *aid, size_t len) {
    uint8_t prefix[1 + 16] = {(uint8_t)len};
    size_t count = 0;
    memcpy(prefix + 1, aid, len);
    assert_int_equal(seam_nvm_foreach(nvm, table, prefix, 1 + len, count_visit, &count), SEAM_OK);
    return count;
}

/* ---- the store ------------------------------------------------------------------- */

static const uint8_t store_aid[] = {0xA0, 0x01, 0x02, 0x03, 0x04};

/* Commits the 4 KiB pages holding offsets at[0..n) in one transaction. */
static void commit_pages(seam_nvm *nvm, const store_memory *m, const uint8_t *memory,
                         const size_t *at, size_t n) {
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(
            store_memory_commit_page(nvm, m, (uint32_t)(at[i] / STORE_PAGE_SIZE), memory), SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
}

static void store_keeps_only_the_chunks_that_differ(void **state) {
    (void)state;
    seam_nvm *nvm = NULL;
    static uint8_t initial[65536], memory[MEMORY_SIZE];
    uint8_t *back = NULL;
    assert_int_equal(seam_nvm_open_memory(0, &nvm), SEAM_OK);
    for (size_t i = 0; i < 100; i++) /* a data segment at 8192 */
        initial[8192 + i] = (uint8_t)(i + 1);
    memcpy(memory, initial, sizeof initial);
    store_memory m = {store_aid, sizeof store_aid, initial, 1, 4096}; /* stack: first page */

    /* a fresh instance whose memory is its initial image stores nothing */
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(store_memory_write(nvm, &m, memory, MEMORY_PAGES), SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    assert_int_equal(records_of(nvm, STORE_CHUNK, store_aid, sizeof store_aid), 0);

    /* three changes: in the segment, past the initial image (grown memory), in the stack */
    memory[8200] ^= 0xFF;
    memory[70000] = 7;
    memory[100] = 9;
    size_t changed[] = {8200, 70000, 100};
    uint64_t points = seam_nvm_write_points(nvm);
    commit_pages(nvm, &m, memory, changed, 3);
    assert_int_equal(seam_nvm_write_points(nvm) - points, 3); /* two puts and the commit */
    assert_int_equal(seam_nvm_txn_bytes_written(nvm),
                     2 * (1 + sizeof store_aid + 3 + 1 + STORE_CHUNK_SIZE));
    assert_int_equal(records_of(nvm, STORE_CHUNK, store_aid, sizeof store_aid), 2);
    assert_int_equal(store_memory_read(nvm, &m, MEMORY_PAGES, &back), SEAM_OK);
    assert_int_equal(back[100], 0); /* the stack was not stored: it reads as initial */
    back[100] = 9;
    assert_memory_equal(back, memory, MEMORY_SIZE);
    free(back);

    /* a second change inside the same chunk: one put again; a page without a change: none */
    memory[70001] = 8;
    points = seam_nvm_write_points(nvm);
    size_t same_chunk[] = {70001, 20000};
    commit_pages(nvm, &m, memory, same_chunk, 2);
    assert_int_equal(seam_nvm_write_points(nvm) - points, 2);
    assert_int_equal(records_of(nvm, STORE_CHUNK, store_aid, sizeof store_aid), 2);

    /* back to the initial image: the chunk is deleted */
    memory[8200] ^= 0xFF;
    size_t reverted[] = {8200};
    commit_pages(nvm, &m, memory, reverted, 1);
    assert_int_equal(records_of(nvm, STORE_CHUNK, store_aid, sizeof store_aid), 1);
    assert_int_equal(store_memory_read(nvm, &m, MEMORY_PAGES, &back), SEAM_OK);
    back[100] = 9;
    assert_memory_equal(back, memory, MEMORY_SIZE);
    free(back);

    /* deleting the instance's memory takes every chunk */
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(store_memory_delete(nvm, store_aid, sizeof store_aid), SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    assert_int_equal(records_of(nvm, STORE_CHUNK, store_aid, sizeof store_aid), 0);
    seam_nvm_close(nvm);
}

/* Puts a raw chunk record (key suffix page, chunk; value of value_len bytes, format 1). */
static void put_raw_chunk(seam_nvm *nvm, uint16_t page, uint8_t chunk, size_t value_len) {
    uint8_t key[1 + sizeof store_aid + 3] = {sizeof store_aid};
    uint8_t value[4 + STORE_CHUNK_SIZE] = {1};
    memcpy(key + 1, store_aid, sizeof store_aid);
    key[1 + sizeof store_aid] = (uint8_t)(page >> 8);
    key[2 + sizeof store_aid] = (uint8_t)page;
    key[3 + sizeof store_aid] = chunk;
    assert_true(value_len <= sizeof value);
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(seam_nvm_delete_prefix(nvm, STORE_CHUNK, NULL, 0, NULL), SEAM_OK);
    assert_int_equal(seam_nvm_put(nvm, STORE_CHUNK, key, sizeof key, value, value_len), SEAM_OK);
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
}

static void store_refuses_chunks_that_do_not_fit(void **state) {
    (void)state;
    seam_nvm *nvm = NULL;
    static uint8_t initial[65536], memory[MEMORY_SIZE];
    uint8_t *back = NULL;
    store_memory m = {store_aid, sizeof store_aid, initial, 1, 0};
    assert_int_equal(seam_nvm_open_memory(0, &nvm), SEAM_OK);
    put_raw_chunk(nvm, 3, 1, 1 + STORE_CHUNK_SIZE); /* a good one */
    assert_int_equal(store_memory_read(nvm, &m, MEMORY_PAGES, &back), SEAM_OK);
    free(back);
    const struct {
        uint16_t page;
        uint8_t chunk;
        size_t len;
    } bad[] = {
        {3, 1, STORE_CHUNK_SIZE},                         /* cut short */
        {3, 1, 2 + STORE_CHUNK_SIZE},                     /* too long */
        {3, STORE_CHUNKS_PER_PAGE, 1 + STORE_CHUNK_SIZE}, /* no such chunk in a page */
        {32, 0, 1 + STORE_CHUNK_SIZE},                    /* past the memory (2 x 64 KiB) */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put_raw_chunk(nvm, bad[i].page, bad[i].chunk, bad[i].len);
        assert_int_equal(store_memory_read(nvm, &m, MEMORY_PAGES, &back), SEAM_ERR_NVM_CORRUPT);
        assert_null(back);
        assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
        if (bad[i].page < 32)
            assert_int_equal(store_memory_commit_page(nvm, &m, bad[i].page, memory),
                             SEAM_ERR_NVM_CORRUPT);
        assert_int_equal(seam_nvm_rollback(nvm), SEAM_OK);
    }
    seam_nvm_close(nvm);
}

/* ---- the card ---------------------------------------------------------------------- */

static void purse_installed(seam_card *card) {
    power_on(card);
    open_channel(card);
    load(card, "purse", purse_pkg, sizeof purse_pkg);
    assert_int_equal(
        install(card, 0x0C, purse_pkg, purse_cls, purse_cls, purse_params, sizeof purse_params),
        0x9000);
}

static void purse_selected(seam_card *card) {
    assert_int_equal(select_aid(card, purse_cls, sizeof purse_cls), 0x9000);
    assert_int_equal(SEND(card, 0x80, 0x20, 0x00, 0x00, 0x04, '1', '2', '3', '4'), 0x9000);
}

static uint32_t balance(seam_card *card) {
    assert_int_equal(SEND(card, 0x80, 0x50, 0x00, 0x00, 0x00), 0x9000);
    return seam_get_be32(response);
}

/* The purse's initial image and stack end, from apps/purse.wasm. */
static uint8_t *purse_initial(uint32_t *pages, uint32_t *stack_end) {
    size_t len = 0;
    uint8_t *bytes = read_module("purse", &len), *image = NULL;
    seam_wasm_module *module = NULL;
    assert_int_equal(seam_wasm_module_new(bytes, len, &module, NULL, 0), SEAM_OK);
    assert_int_equal(seam_applet_initial_image(module, NULL, &image, pages, stack_end), SEAM_OK);
    seam_wasm_module_free(module);
    free(bytes);
    return image;
}

typedef struct {
    const uint8_t *initial;
    size_t initial_size;
    uint32_t stack_end;
    size_t chunks;
} chunk_check;

/* Checks one stored chunk of the purse: outside the stack, not its initial bytes. */
static int check_chunk(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                       size_t value_len) {
    chunk_check *c = ctx;
    assert_int_equal(key_len, 1 + sizeof purse_cls + 3);
    assert_int_equal(value_len, 1 + STORE_CHUNK_SIZE);
    size_t page = (size_t)key[key_len - 3] << 8 | key[key_len - 2];
    size_t offset = page * STORE_PAGE_SIZE + key[key_len - 1] * STORE_CHUNK_SIZE;
    assert_true(offset + STORE_CHUNK_SIZE > c->stack_end);
    uint8_t expected[STORE_CHUNK_SIZE] = {0};
    if (offset < c->initial_size)
        memcpy(expected, c->initial + offset, STORE_CHUNK_SIZE);
    assert_memory_not_equal(value + 1, expected, STORE_CHUNK_SIZE);
    c->chunks++;
    return 0;
}

static void a_debit_puts_a_chunk_not_a_page(void **state) {
    fixture *f = *state;
    seam_nvm *nvm = seam_card_nvm(f->card);
    uint32_t pages = 0;
    chunk_check check = {0};
    uint8_t prefix[1 + sizeof purse_cls] = {sizeof purse_cls};
    memcpy(prefix + 1, purse_cls, sizeof purse_cls);
    purse_installed(f->card);
    purse_selected(f->card);
    uint8_t *initial = purse_initial(&pages, &check.stack_end);
    check.initial = initial;
    check.initial_size = (size_t)pages * 65536u;
    size_t record = 1 + sizeof purse_cls + 3 + 1 + STORE_CHUNK_SIZE + SEAM_NVM_SEAL_OVERHEAD;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(SEND(f->card, 0x80, 0x40, 0x00, 0x00, 0x04, 0, 0, 0, 1), 0x9000);
        uint64_t put = seam_nvm_txn_bytes_written(nvm);
        /* the balance and counters, and a 16-byte log entry that may straddle two chunks */
        if (put == 0 || put > 3 * record)
            fail_msg("DEBIT %d put %llu bytes (a chunk record is %zu)", i, (unsigned long long)put,
                     record);
    }
    assert_int_equal(balance(f->card), 10000 - 20);
    assert_int_equal(seam_nvm_foreach(nvm, STORE_CHUNK, prefix, sizeof prefix, check_chunk, &check),
                     SEAM_OK);
    print_message("purse: %zu chunks of %u bytes stored (the rest is its initial image), "
                  "a DEBIT puts at most %zu bytes\n",
                  check.chunks, STORE_CHUNK_SIZE, 3 * record);
    assert_true(check.chunks > 0 && check.chunks < 16);
    assert_int_equal(records_of(nvm, STORE_PAGE, purse_cls, sizeof purse_cls), 0);
    free(initial);
}

/*
 * Rewrites the purse's memory as an earlier version stored it: every 4 KiB page
 * outside the stack that is not all zero, in table 7, and no chunk.
 */
static void make_paged(fixture *f) {
    seam_nvm *nvm = seam_card_nvm(f->card);
    uint32_t pages = 0, stack_end = 0;
    uint8_t *memory = NULL;
    uint8_t *initial = purse_initial(&pages, &stack_end);
    store_memory m = {purse_cls, sizeof purse_cls, initial, pages, stack_end};
    assert_int_equal(store_memory_read(nvm, &m, pages, &memory), SEAM_OK);
    assert_int_equal(seam_nvm_begin(nvm), SEAM_OK);
    assert_int_equal(store_memory_delete(nvm, purse_cls, sizeof purse_cls), SEAM_OK);
    for (uint32_t page = 0; page < pages * 16; page++) {
        uint8_t key[1 + sizeof purse_cls + 2] = {sizeof purse_cls};
        static uint8_t value[1 + STORE_PAGE_SIZE];
        const uint8_t *p = memory + (size_t)page * STORE_PAGE_SIZE;
        bool zero = true;
        for (size_t i = 0; i < STORE_PAGE_SIZE && zero; i++)
            zero = p[i] == 0;
        if (zero || (page + 1) * STORE_PAGE_SIZE <= stack_end)
            continue;
        memcpy(key + 1, purse_cls, sizeof purse_cls);
        key[sizeof key - 2] = (uint8_t)(page >> 8);
        key[sizeof key - 1] = (uint8_t)page;
        value[0] = 1;
        memcpy(value + 1, p, STORE_PAGE_SIZE);
        assert_int_equal(seam_nvm_put(nvm, STORE_PAGE, key, sizeof key, value, sizeof value),
                         SEAM_OK);
    }
    assert_int_equal(seam_nvm_commit(nvm), SEAM_OK);
    assert_true(records_of(nvm, STORE_PAGE, purse_cls, sizeof purse_cls) > 0);
    assert_int_equal(records_of(nvm, STORE_CHUNK, purse_cls, sizeof purse_cls), 0);
    free(memory);
    free(initial);
}

/* The card as the test leaves it before the earlier version's layout: a purse, 5 debits. */
static uint8_t chunked_state[32];

static void paged_purse(fixture *f) {
    purse_installed(f->card);
    purse_selected(f->card);
    for (int i = 0; i < 5; i++)
        assert_int_equal(SEND(f->card, 0x80, 0x40, 0x00, 0x00, 0x04, 0, 0, 0, 1), 0x9000);
    fingerprint(f->card, chunked_state);
    host_forget();
    seam_card_power_off(f->card);
    make_paged(f);
}

/* Closes and opens f's card without powering it on (a power-up converts). */
static void reopen_off(fixture *f) {
    host_forget();
    seam_card_close(f->card);
    f->card = NULL;
    assert_int_equal(seam_card_open(f->path, &f->card), SEAM_OK);
}

static void memory_of_an_earlier_version_is_converted_at_power_up(void **state) {
    fixture *f = *state;
    uint8_t now[32];
    paged_purse(f);
    reopen_off(f);
    seam_nvm *nvm = seam_card_nvm(f->card);
    assert_true(records_of(nvm, STORE_PAGE, purse_cls, sizeof purse_cls) > 0);
    power_on(f->card);
    /* the same card as before the pages: the same chunks, nothing of table 7 */
    fingerprint(f->card, now);
    assert_memory_equal(now, chunked_state, 32);
    assert_int_equal(records_of(nvm, STORE_PAGE, purse_cls, sizeof purse_cls), 0);
    purse_selected(f->card);
    assert_int_equal(balance(f->card), 10000 - 5);
    assert_int_equal(SEND(f->card, 0x80, 0x40, 0x00, 0x00, 0x04, 0, 0, 0, 1), 0x9000);
    assert_int_equal(balance(f->card), 10000 - 6);
}

/* X4: a power cut at every write point of the conversion leaves the pages as they were;
   the next power-up converts them. */
static void x4_power_cut_at_every_write_of_the_conversion(void **state) {
    fixture *f = *state;
    uint8_t paged[32], now[32];
    int n = 1;
    for (;; n++) {
        fresh_image(f);
        paged_purse(f);
        reopen_off(f);
        fingerprint(f->card, paged);
        assert_int_equal(
            seam_nvm_fault_set(seam_card_nvm(f->card), SEAM_NVM_FAULT_POWER_CUT, (uint64_t)n),
            SEAM_OK);
        uint8_t atr[SEAM_CARD_ATR_MAX];
        size_t atr_len = 0;
        seam_err e = seam_card_power_on(f->card, atr, sizeof atr, &atr_len);
        if (e == SEAM_OK) {
            assert_int_equal(seam_nvm_fault_set(seam_card_nvm(f->card), SEAM_NVM_FAULT_OFF, 0),
                             SEAM_OK);
            break;
        }
        assert_int_equal(e, SEAM_ERR_NVM_POWER_CUT);
        reopen_off(f);
        fingerprint(f->card, now);
        assert_memory_equal(now, paged, 32); /* the conversion's transaction is gone */
        assert_true(n < 200);
    }
    fingerprint(f->card, now);
    assert_memory_equal(now, chunked_state, 32);
    print_message("X4 conversion of the purse's pages: %d write points swept\n", n - 1);
    assert_true(n - 1 >= 3); /* chunk puts, the pages' delete, the commit */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(store_keeps_only_the_chunks_that_differ),
        cmocka_unit_test(store_refuses_chunks_that_do_not_fit),
        cmocka_unit_test_setup_teardown(a_debit_puts_a_chunk_not_a_page, setup, teardown),
        cmocka_unit_test_setup_teardown(memory_of_an_earlier_version_is_converted_at_power_up,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(x4_power_cut_at_every_write_of_the_conversion, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
