/*
 * The card application toolkit's proactive session (proactive.c): the queue of
 * proactive commands the applets file, the rules of what may leave the card
 * and when, and the registrations of menu items, events and timers, on the
 * card's RAM (card_int.h: card_toolkit; registry.h keeps some in the image). Internal to the card
 * layer; the commands that drive it are toolkit_apdu.c's (docs/toolkit.md "The card").
 */
#ifndef SEAM_CARD_TOOLKIT_PROACTIVE_H
#define SEAM_CARD_TOOLKIT_PROACTIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/card_int.h"

/* The status word the toolkit adds to a command's answer sw: 91xx (xx = the
   length of the command FETCH would return) when sw is 9000, a TERMINAL PROFILE
   came this power-up, no fetched command awaits its TERMINAL RESPONSE and one is
   queued; sw otherwise (TS 102 221 §7.4.2). */
uint16_t toolkit_status(const card_toolkit *t, uint16_t sw);

/* True when the command FETCH would return now exists (as for 91xx). */
bool toolkit_fetchable(const card_toolkit *t);

/* True when command[0..len) is a proactive command that may leave the card: at most
   TOOLKIT_COMMAND_MAX bytes that seam_tk_command_decode takes (one D0 filling len,
   COMPREHENSION-TLV objects, command details first, device identities second), with
   source 81 (the UICC) and a command number 01..FE. */
bool toolkit_proactive_valid(const uint8_t *command, size_t len);

/* The command number and type of command (valid: toolkit_proactive_valid). */
void toolkit_command_details(const toolkit_command *command, uint8_t *number, uint8_t *type);

/* Queues command[0..len) for instance aid: 0, or SEAM_TOOLKIT_ERR_MALFORMED (not
   valid, or no aid), SEAM_TOOLKIT_ERR_BUSY (aid already has one queued or awaiting
   its TERMINAL RESPONSE), SEAM_TOOLKIT_ERR_FULL (TOOLKIT_QUEUE_MAX of applets
   queued; the card's own do not count). */
int32_t toolkit_queue(card_toolkit *t, const uint8_t *aid, size_t aid_len, const uint8_t *command,
                      size_t len);

/* Takes queue[0] off the queue (its TERMINAL RESPONSE came) into *done. */
void toolkit_dequeue(card_toolkit *t, toolkit_command *done);

/* Registers (on) or releases instance aid for kind and id: 0, or
   SEAM_TOOLKIT_ERR_DENIED (an unknown kind, an id out of range, a menu item or
   timer another instance holds), SEAM_TOOLKIT_ERR_LIMIT (aid holds
   TOOLKIT_INSTANCE_*_MAX of kind), SEAM_TOOLKIT_ERR_FULL (TOOLKIT_ENROL_MAX). */
int32_t toolkit_enrol(card_toolkit *t, const uint8_t *aid, size_t aid_len, uint32_t kind,
                      uint32_t id, bool on);

/* The registrations of kind and id from index *from on: the next one, *from moved
   past it; NULL when there is none. */
const toolkit_enrolment *toolkit_enrolled(const card_toolkit *t, uint8_t kind, uint8_t id,
                                          size_t *from);

#endif
