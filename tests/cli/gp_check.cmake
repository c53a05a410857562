# Driver of the seam gp tests (gp.cmake): CASE names the scenario; SEAM, APPS
# and WORK the command, the applets and a scratch folder.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(image ${WORK}/card.db)
set(test_key 404142434445464748494A4B4C4D4E4F)
set(owner_key A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5)

# gp(EXIT status [OUT regex...] [ERR regex...] ARGS args...): runs seam gp
# --image with args; checks the exit status and that stdout / stderr match
# every regex given. The output is left in gp_out and gp_err.
function(gp)
  cmake_parse_arguments(PARSE_ARGV 0 g "" "EXIT" "OUT;ERR;ARGS;ENV")
  execute_process(COMMAND ${CMAKE_COMMAND} -E env ${g_ENV} ${SEAM} gp --image ${image} ${g_ARGS}
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL g_EXIT)
    message(FATAL_ERROR "seam gp ${g_ARGS}: exit ${status}, expected ${g_EXIT}\n${out}${err}")
  endif()
  foreach(regex ${g_OUT})
    if(NOT out MATCHES "${regex}")
      message(FATAL_ERROR "seam gp ${g_ARGS}: stdout does not match '${regex}':\n${out}${err}")
    endif()
  endforeach()
  foreach(regex ${g_ERR})
    if(NOT err MATCHES "${regex}")
      message(FATAL_ERROR "seam gp ${g_ARGS}: stderr does not match '${regex}':\n${out}${err}")
    endif()
  endforeach()
  set(gp_out "${out}" PARENT_SCOPE)
  set(gp_err "${err}" PARENT_SCOPE)
endfunction()

include(${CMAKE_CURRENT_LIST_DIR}/card_state.cmake)

execute_process(COMMAND ${SEAM} card new --image ${image} RESULT_VARIABLE created OUTPUT_QUIET)
if(NOT created EQUAL 0)
  message(FATAL_ERROR "seam card new failed (${created})")
endif()

if(CASE STREQUAL "cycle")
  gp(EXIT 0 OUT "^ISD A000000151000000  SECURED  privileges SecurityDomain," ARGS list)
  set(empty "${gp_out}")
  gp(EXIT 0 OUT "loaded package A00000054845 version 1.0 .*installed A0000005484501"
     ARGS --level 33 install ${APPS}/hello.wasm --hash)
  gp(EXIT 0 OUT "APP A0000005484501  SELECTABLE  privileges none  package A00000054845  domain A000000151000000"
                "PKG A00000054845  LOADED  version 1.0  useful space"
                "      module A0000005484501"
     ARGS list)
  gp(EXIT 0 OUT "\"packages\": .\n  {\"aid\": \"A00000054845\", \"lifecycle\": \"01\", \"state\": \"LOADED\", \"version\": \"0100\", \"space\": \"01\""
                "\"isd\": {\"aid\": \"A000000151000000\", \"lifecycle\": \"0F\""
     ARGS --json list)
  # the trace: plain and wrapped commands, unwrapped responses with the status in words
  gp(EXIT 0 OUT "deleted A00000054845 and what depended on it"
     ERR "> 80E40080084F06A0000005484500\n=> 84E40080" "< 009000  \\(9000: success\\)"
     ARGS -d --level 03 delete A00000054845 --force)
  # the registry as GET STATUS lists it is as before (the card keeps the instance's
  # restore-module record, which `seam card list` shows: docs/restore-module.md)
  gp(EXIT 0 ARGS list)
  if(NOT gp_out STREQUAL empty)
    message(FATAL_ERROR "install then delete:\nbefore:\n${empty}\nafter:\n${gp_out}")
  endif()
elseif(CASE STREQUAL "errors")
  gp(EXIT 0 ARGS install ${APPS}/hello.wasm)
  state(before)
  gp(EXIT 1 ERR "the card cryptogram does not verify: the card does not hold this key"
     ARGS --key 00112233445566778899AABBCCDDEEFF list)
  unchanged("${before}" "a wrong key")
  gp(EXIT 1 ERR "A0000005999901 is not on the card \\(6A88: referenced data not found\\)"
     ARGS delete A0000005999901)
  unchanged("${before}" "delete of an unknown AID")
  gp(EXIT 1 ERR "DELETE answered 6985 .*needs --force" ARGS delete A00000054845)
  unchanged("${before}" "delete of a package in use")
  file(WRITE ${WORK}/notes.txt "not a package\n")
  gp(EXIT 1 ERR "'${WORK}/notes.txt' is not a seam package: not a WebAssembly module.*nothing was sent"
     ARGS install ${WORK}/notes.txt)
  gp(EXIT 1 ERR "cannot read '${WORK}/missing.wasm'" ARGS install ${WORK}/missing.wasm)
  gp(EXIT 1 ERR "INSTALL \\[for load, install and make selectable\\] \\(first, P2 01\\) answered 6985 \\(conditions of use not satisfied\\)"
     ARGS install ${APPS}/hello.wasm)
  # the combined sequence's final INSTALL refused (the instance AID is hello's):
  # the package it carried is not kept either
  gp(EXIT 1 ERR "INSTALL \\[for load, install and make selectable\\] \\(final, P2 03\\) answered 6985"
     ARGS install ${APPS}/test_perso.wasm --aid A0000005484501)
  gp(EXIT 1 ERR "'${WORK}/notes.txt' is not a seam package: not a WebAssembly module.*nothing was sent"
     ARGS upgrade ${WORK}/notes.txt)
  gp(EXIT 1 ERR "INSTALL \\[for personalization\\] answered 6A88"
     ARGS store-data DF010100 --perso A0000005999901)
  unchanged("${before}" "files that are not packages, a package loaded twice, a refused final INSTALL, an unknown target")
  gp(EXIT 1 ERR "INITIALIZE UPDATE answered 6A88" ARGS --kvn 45 list)
  gp(EXIT 1 ERR "SELECT of the security domain answered 6A82" ARGS --sd A000000559999999 list)
  # a reader that does not exist, with no pcscd to ask (PCSCLITE_CSOCK_NAME points nowhere)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env PCSCLITE_CSOCK_NAME=${WORK}/no-pcscd
                  ${SEAM} gp --reader "No Such Reader 00 00" list
                  RESULT_VARIABLE status ERROR_VARIABLE err OUTPUT_QUIET)
  if(NOT status EQUAL 1 OR NOT err MATCHES "PC/SC is not available: is pcscd running\\?")
    message(FATAL_ERROR "--reader without pcscd: exit ${status}: ${err}")
  endif()
  gp(EXIT 2 ERR "--level is one of 00 01 03 11 13 33" ARGS --level 02 list)
  gp(EXIT 2 ERR "unknown action 'frobnicate'" ARGS frobnicate)
  gp(EXIT 2 ERR "--key must be 16, 24 or 32 bytes" ARGS --key 0011 list)
  gp(EXIT 2 ERR "'XYZ' is not an AID" ARGS delete XYZ)
  gp(EXIT 2 ERR "give one of --image FILE or --reader NAME" ARGS --reader X list)
  unchanged("${before}" "usage errors")
elseif(CASE STREQUAL "actions")
  gp(EXIT 0 OUT "^ATR 3B" "card data \\(0066\\) 6631" "CPLC \\(9F7F\\) 9F7F2A" ARGS info)
  gp(EXIT 0 OUT "\"atr\": \"3B" "\"9F7F\": \"9F7F2A" ARGS --json info)
  gp(EXIT 0 OUT "installed A0000005505501" ARGS install ${APPS}/purse.wasm --params 0431323334)
  # the purse: VERIFY 1234, BALANCE (plain APDUs after its SELECT)
  gp(EXIT 0 OUT "9000  \\(success\\)\n9000  \\(success\\)\n0000000000000000 9000"
     ARGS apdu 00A4040007A000000550550100 00200000043132333400 8050000000)
  # through the ISD's channel: GET DATA C1, wrapped at level 33
  gp(EXIT 0 OUT "^C10300000[0-9A-F] 9000" ERR "=> 84CA00C1" ARGS -d --level 33 apdu 80CA00C100)
  gp(EXIT 0 OUT "start: waiting for the new package\nload: [0-9]+ bytes in [0-9]+ LOAD blocks\nmigrate: completed, 1 instance migrated"
     ARGS upgrade ${APPS}/purse_v2.wasm)
  gp(EXIT 0 OUT "PKG A00000055055  LOADED  version 2.0  useful space" ARGS list)
  gp(EXIT 0 OUT "locked A0000005505501" ARGS lock A0000005505501)
  gp(EXIT 0 OUT "APP A0000005505501  LOCKED" ARGS list)
  gp(EXIT 0 OUT "unlocked A0000005505501" ARGS unlock A0000005505501)
  gp(EXIT 0 OUT "APP A0000005505501  SELECTABLE" ARGS list)
  gp(EXIT 0 OUT "stored 8 bytes" ARGS --level 13 store-data --dgi 0070054203112233)
  gp(EXIT 0 OUT "^112233 9000" ARGS apdu 00CA004200)
  # the key handover: KCV = AES-128(A5.., 16 x 01), first 3 bytes (openssl enc -aes-128-ecb)
  gp(EXIT 0 OUT "key set 30 \\(AES-128\\): ENC KCV 80568B MAC KCV 80568B DEK KCV 80568B"
     ARGS --level 03 put-key --new-key ${owner_key})
  gp(EXIT 1 ERR "card cryptogram does not verify" ARGS list)
  state(handed KEY ${owner_key})
  gp(EXIT 0 OUT "locked the card" ARGS --key ${owner_key} lock --card)
  gp(EXIT 0 OUT "ISD A000000151000000  CARD_LOCKED" ARGS --key ${owner_key} list)
  gp(EXIT 0 OUT "unlocked the card" ARGS --key ${owner_key} unlock --card)
  unchanged("${handed}" "lock and unlock of the card" KEY ${owner_key})
  gp(EXIT 1 ERR "SET STATUS|the command 80 F0 40 80 answered 6A88|not on the card"
     ARGS --key ${owner_key} lock A0000005999901)
elseif(CASE STREQUAL "help")
  foreach(action list info install delete apdu upgrade put-key lock unlock store-data readers)
    gp(EXIT 0 OUT "^usage: seam gp \\[OPTIONS\\] ${action}" ARGS ${action} --help)
  endforeach()
  gp(EXIT 0 OUT "^usage: seam gp \\[--image FILE \\| --reader NAME\\]" "install +FILE" ARGS --help)
  gp(EXIT 2 ERR "usage: seam gp" ARGS)
  execute_process(COMMAND ${SEAM} --help RESULT_VARIABLE status OUTPUT_VARIABLE out)
  if(NOT out MATCHES "seam gp ")
    message(FATAL_ERROR "seam --help does not list seam gp:\n${out}")
  endif()
else()
  message(FATAL_ERROR "unknown CASE ${CASE}")
endif()
