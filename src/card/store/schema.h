/*
 * The card image's schema: every nvm table of a card and the layout of its
 * records, in one place (docs/card.md, "Registry records"). Internal to the
 * card layer; the modules of store/ read and write the records (registry.h,
 * package_store.h, restore_records.h), except the upgrade sessions, which
 * upgrade/upgrade.c keeps.
 *
 * Every value starts with a format byte so that a later version can read
 * what an earlier one wrote; a record with an unknown format, or one that
 * does not fill its value exactly, is SEAM_ERR_NVM_CORRUPT. LV = a length
 * byte and that many bytes.
 *
 *  #  table                    key                          value
 *  -- -----------------------  ---------------------------  ------------------------------
 *  1  REGISTRY_CARD            "card"                       format 1, card lifecycle, LV IIN,
 *                                                           LV CIN
 *  2  REGISTRY_SD              SD AID                       format 2, lifecycle, privileges
 *                                                           (3), sequence counter (3), SCP i,
 *                                                           key diversification data (10), LV
 *                                                           associated SD AID (empty for the
 *                                                           ISD); format 1: the same without
 *                                                           the LV (associated with the ISD)
 *  3  REGISTRY_KEYSET          SD AID || KVN                format 1, key length, Key-ENC,
 *                                                           Key-MAC, Key-DEK
 *  4  STORE_PACKAGE            package AID                  format 2, version (2), applet
 *                                                           count, LV applet class AIDs, LV
 *                                                           owner SD AID, space (SPACE_*);
 *                                                           format 1 ends after the class AIDs
 *                                                           (the ISD's, in the useful space)
 *  5  STORE_MODULE             package AID                  format 1, the wasm module bytes
 *  6  STORE_INSTANCE           instance AID                 format 2, lifecycle, memory size in
 *                                                           64 KiB pages, LV package AID, LV
 *                                                           class AID, LV SD AID, LV privileges,
 *                                                           package space; format 1: without
 *                                                           the space
 *  7  STORE_PAGE               len || instance AID ||       written by earlier versions only:
 *                              page number (2, BE)          format 1, STORE_PAGE_SIZE bytes, one
 *                                                           non-zero 4 KiB page of linear memory
 *                                                           (absent = zero); read once, at the
 *                                                           first power-up, into table 15 and
 *                                                           deleted (memory_store.h)
 *  8  RESTORE_RECORD           identity                     format 1, next block number (2),
 *                                                           bytes used (2)
 *  9  RESTORE_PERSO            identity || block number (2) format 1, P1, data
 *  10 RESTORE_ENTRY            identity || name             format 1, value
 *  11 STORE_PACKAGE_TEMPORARY  package AID                  as 4, for the packages of the
 *                                                           temporary useful space
 *  12 STORE_MODULE_TEMPORARY   package AID                  as 5, their modules
 *  13 UPGRADE_SESSION          old package AID              format 1, LV owner SD AID, LV new
 *                                                           package AID, instances migrated
 *                                                           (2), old version (2)
 *  14 REGISTRY_TOKEN_KEY       SD AID || KVN                format 1, key type B0 (ECC public
 *                                                           key), parameter reference 00
 *                                                           (P-256), 65 bytes 04 || X || Y: the
 *                                                           Delegated Management token
 *                                                           verification key (KVN 70)
 *  15 STORE_CHUNK              len || instance AID ||       format 1, STORE_CHUNK_SIZE bytes: a
 *                              page number (2, BE) ||       chunk of linear memory (bytes
 *                              chunk in the page (1)        [page * 4096 + chunk * SIZE, + SIZE))
 *                                                           that differs from the module's
 *                                                           initial image (absent = the initial
 *                                                           image's bytes: its data segments
 *                                                           over zeros; chunks entirely inside
 *                                                           the shadow stack are never stored)
 *  16 TOOLKIT_REGISTRATION     instance AID                 format 1, item count n, n x (item
 *                                                           identifier, LV text), event count
 *                                                           m, m event values: the toolkit menu
 *                                                           items and events the instance
 *                                                           registered (toolkit_records.h);
 *                                                           absent = none
 *
 * identity = len(SD AID) || SD AID || len(instance AID) || instance AID: every
 * key of an SD's restore-module records starts with its SD's AID, so one
 * prefix finds them all (restore_records.h).
 */
#ifndef SEAM_CARD_STORE_SCHEMA_H
#define SEAM_CARD_STORE_SCHEMA_H

/* The nvm tables of a card image. */
enum {
    REGISTRY_CARD = 1,
    REGISTRY_SD = 2,
    REGISTRY_KEYSET = 3,
    STORE_PACKAGE = 4,
    STORE_MODULE = 5,
    STORE_INSTANCE = 6,
    STORE_PAGE = 7,
    RESTORE_RECORD = 8,
    RESTORE_PERSO = 9,
    RESTORE_ENTRY = 10,
    STORE_PACKAGE_TEMPORARY = 11,
    STORE_MODULE_TEMPORARY = 12,
    UPGRADE_SESSION = 13,
    REGISTRY_TOKEN_KEY = 14,
    STORE_CHUNK = 15,
    TOOLKIT_REGISTRATION = 16,
};

#define REGISTRY_AID_MAX 16u   /* every AID in a key or an LV */
#define REGISTRY_ID_MAX  16u   /* IIN and CIN */
#define STORE_PAGE_SIZE  4096u /* bytes of one STORE_PAGE value after its format byte */
/* Bytes of one STORE_CHUNK value after its format byte. A sealed chunk record
   (key of at most 20 bytes, value 1 + 32 + 28) is at most 87 bytes as SQLite
   stores it, under the 102 a 512-byte page keeps in its leaf: a command that
   changes a few bytes of an applet's memory rewrites one page, one 536-byte
   frame of the log (docs/card.md "Applet memory in the image"). */
#define STORE_CHUNK_SIZE 32u

/* Where a package lives (requirements U1, U2; the space byte of tables 4 and
   6): instances may be created only from packages in the useful space. */
enum {
    SPACE_USEFUL = 1,
    SPACE_TEMPORARY = 2,
};

#endif
