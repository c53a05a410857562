# Driver of the seam card script tests beyond the three scripts of card_script.cmake:
# CASE names the scenario; SEAM, APPS, DATA and WORK the command, the applets, the
# scripts of tests/cli/data and a scratch folder. Refused scripts must leave the
# card as it was (card_state.cmake: seam gp list and seam card list, before and after).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(image ${WORK}/card.db)
set(test_key 404142434445464748494A4B4C4D4E4F)
include(${CMAKE_CURRENT_LIST_DIR}/card_state.cmake)

# script(EXIT status [OUT regex...] [NOT regex...] [ENV var=value...] ARGS args...): runs
# seam card script with args; checks the exit status, that stdout and stderr together
# match every OUT regex and none of the NOT ones. The output is left in script_out.
function(script)
  cmake_parse_arguments(PARSE_ARGV 0 s "" "EXIT" "OUT;NOT;ARGS;ENV")
  execute_process(COMMAND ${CMAKE_COMMAND} -E env ${s_ENV} ${SEAM} card script ${s_ARGS}
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL s_EXIT)
    message(FATAL_ERROR "seam card script ${s_ARGS}: exit ${status}, expected ${s_EXIT}\n${out}${err}")
  endif()
  foreach(regex ${s_OUT})
    if(NOT "${out}${err}" MATCHES "${regex}")
      message(FATAL_ERROR "seam card script ${s_ARGS}: output does not match '${regex}':\n${out}${err}")
    endif()
  endforeach()
  foreach(regex ${s_NOT})
    if("${out}${err}" MATCHES "${regex}")
      message(FATAL_ERROR "seam card script ${s_ARGS}: output matches '${regex}':\n${out}${err}")
    endif()
  endforeach()
  set(script_out "${out}${err}" PARENT_SCOPE)
endfunction()

# write(NAME LINES...): writes WORK/NAME.script, one argument a line.
function(write name)
  string(REPLACE ";" "\n" text "${ARGN}")
  file(WRITE ${WORK}/${name}.script "${text}\n")
endfunction()

execute_process(COMMAND ${SEAM} card new --image ${image} RESULT_VARIABLE created OUTPUT_QUIET)
if(NOT created EQUAL 0)
  message(FATAL_ERROR "seam card new failed (${created})")
endif()
set(isd_select "00A4040008A000000151000000 00 => 9000")

if(CASE STREQUAL "check")
  # --check: every error with its file and line, nothing sent, no card needed
  script(EXIT 1 ARGS --check ${DATA}/bad.script
         OUT "bad.script:2: Lc is 1D \\(29 bytes\\) but 7 bytes follow the header"
             "bad.script:3: .scp03 level= is one of 00 01 03 11 13 33: '02'"
             "bad.script:4: .scp03 kvn= is a key version 00 to 7F: '80'"
             "bad.script:5: .scp03 key= must be 16, 24 or 32 bytes of hex"
             "bad.script:6: .scp03: level= is given twice"
             "bad.script:7: .putkey needs key=HEX"
             "bad.script:8: .putkey kvn=00 adds a key set: give its version with new=NN"
             "bad.script:9: .load needs a package FILE"
             "bad.script:10: .load: cannot read 'no-such-package.wasm': no such file"
             "bad.script:11: .install package= needs module=AID"
             "bad.script:12: .delete AID must be an AID of 5 to 16 bytes of hex: 'XYZ'"
             "bad.script:13: .delete does not take 'relatd' \\(AID, related\\)"
             "bad.script:14: .store-data takes one of dgi and tlv"
             "bad.script:15: .traffic has no status word to expect"
             "bad.script:16: unknown directive '.frob'"
             "bad.script:17: expected a status word after =>"
             "bad.script: 17 lines checked, 16 errors")
  script(EXIT 1 ARGS --check --stop-on-error ${DATA}/bad.script
         OUT "bad.script:2: Lc is 1D" "bad.script: 2 lines checked, 1 error \\(stopped at the first\\)"
         NOT "bad.script:3:")
  script(EXIT 0 ARGS --check ${DATA}/isd.script OUT "isd.script: [0-9]+ lines checked, 0 errors")
  script(EXIT 1 ARGS --check ${WORK} OUT "${WORK}: not a regular file")
  script(EXIT 1 ARGS --check ${WORK}/missing.script OUT "missing.script: no such file")
  # a package file checked for what it is, before anything is sent
  file(WRITE ${WORK}/notes.txt "not a package\n")
  write(files ".load ${WORK}/notes.txt" ".install ${APPS}/hello.wasm aid=A000000548450A"
              ".upgrade ${WORK}")
  script(EXIT 1 ARGS --check ${WORK}/files.script
         OUT "files.script:1: .load: '${WORK}/notes.txt' is not a seam package: not a WebAssembly module"
             "files.script:3: .upgrade: cannot read '${WORK}': not a regular file"
             "2 errors")
  script(EXIT 0 ARGS --help OUT "^usage: seam card script" "--check" "--stop-on-error")
elseif(CASE STREQUAL "directives")
  # install, store data, delete and upgrade with every length computed; 61xx collected
  write(run "${isd_select}" ".scp03 level=03"
            ".install ${APPS}/purse.wasm params=0431323334"
            ".install package=A00000055055 module=A0000005505501 aid=A0000005505502"
            ".store-data DF010435363738 tlv perso=A0000005505502"
            "00A4040007A0000005505502 00 => 9000"
            "00200000 04 35363738 => 9000"
            "${isd_select}" ".scp03"
            ".upgrade ${APPS}/purse_v2.wasm"
            ".install ${APPS}/hello.wasm hash"
            ".delete A0000005484501"
            ".delete A00000054845"
            ".delete A0000005999901 => 6A88"
            "80CA9F7F0A => 9000 9F7F2A*"
            "80CA9F7F0A => 61XX"
            ".traffic")
  script(EXIT 0 ARGS --image ${image} ${WORK}/run.script
         OUT "loaded ${APPS}/purse.wasm: [0-9]+ bytes in [0-9]+ LOAD blocks"
             "installed A0000005505501 \\(module A0000005505501\\)"
             "installed A0000005505502\n"
             "stored 7 bytes"
             "start: waiting for the new package\n  load: [0-9]+ bytes in [0-9]+ LOAD blocks\n  migrate: completed, 2 instances migrated"
             "deleted A0000005484501"
             "DELETE answered 6A88 \\(referenced data not found\\), as expected"
             "INS C0: 1 command"
             "16 passed, 0 failed")
  gp(EXIT 0 ARGS list)
  foreach(want "APP A0000005505501  SELECTABLE" "APP A0000005505502  SELECTABLE"
               "PKG A00000055055  LOADED  version 2.0")
    string(FIND "${gp_out}" "${want}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "seam gp list lacks '${want}':\n${gp_out}")
    endif()
  endforeach()
  if(gp_out MATCHES "A00000054845")
    message(FATAL_ERROR "the deleted instance or package is still listed:\n${gp_out}")
  endif()
elseif(CASE STREQUAL "toolkit")
  # the proactive loop of tests/cli/data/toolkit.script on apps/test_toolkit
  write(setup "${isd_select}" ".scp03" ".install ${APPS}/test_toolkit.wasm")
  script(EXIT 0 ARGS --image ${image} ${WORK}/setup.script)
  script(EXIT 0 ARGS --image ${image} ${DATA}/toolkit.script OUT "13 passed, 0 failed")
elseif(CASE STREQUAL "errors")
  write(setup "${isd_select}" ".scp03" ".install ${APPS}/hello.wasm")
  script(EXIT 0 ARGS --image ${image} ${WORK}/setup.script)
  state(before)
  # bad arguments: refused before INITIALIZE UPDATE, nothing sent at all
  write(level ".scp03 level=02")
  script(EXIT 1 ARGS --image ${image} ${WORK}/level.script
         OUT "level.script:1: .scp03 level= is one of" "bytes in 0, bytes out 0, commands 0")
  # a wrong key: only INITIALIZE UPDATE goes
  write(key "${isd_select}" ".scp03 key=00112233445566778899AABBCCDDEEFF" ".delete A00000054845 related")
  script(EXIT 1 ARGS --image ${image} ${WORK}/key.script
         OUT "key.script:2: .scp03: the card cryptogram does not verify"
             "key.script:3: .delete: DELETE answered 6982")
  unchanged("${before}" "a wrong key")
  # an unknown AID, a package in use, a package loaded twice, a file that is not one
  file(WRITE ${WORK}/notes.txt "not a package\n")
  write(refused "${isd_select}" ".scp03" ".delete A0000005999901" ".delete A00000054845"
                ".install ${APPS}/hello.wasm" ".install ${WORK}/notes.txt"
                ".install ${WORK}/missing.wasm")
  script(EXIT 1 ARGS --image ${image} ${WORK}/refused.script
         OUT "refused.script:3: .delete: DELETE answered 6A88 \\(referenced data not found\\)"
             "refused.script:4: .delete: DELETE answered 6985"
             "refused.script:5: .install: INSTALL \\[for load, install and make selectable\\] \\(first, P2 01\\) answered 6985"
             "refused.script:6: .install: '${WORK}/notes.txt' is not a seam package"
             "refused.script:7: .install: cannot read '${WORK}/missing.wasm': no such file"
             "2 passed, 5 failed")
  unchanged("${before}" "refused deletes and installs")
  # --stop-on-error: what follows the first failure is not sent
  write(stop "${isd_select}" ".scp03" ".delete A0000005999901" ".delete A00000054845 related")
  script(EXIT 1 ARGS --image ${image} --stop-on-error ${WORK}/stop.script
         OUT "stop.script:3: .delete: DELETE answered 6A88" "stopped at line 3" "2 passed, 1 failed"
         NOT "stop.script:4")
  unchanged("${before}" "a script stopped at its first failure")
  # a script that is not a file; a reader that does not exist, with no pcscd to ask
  script(EXIT 1 ARGS --image ${image} ${WORK} OUT "not a regular file")
  script(EXIT 1 ENV PCSCLITE_CSOCK_NAME=${WORK}/no-pcscd
         ARGS --reader "No Such Reader 00 00" ${WORK}/setup.script
         OUT "PC/SC is not available: is pcscd running\\?")
  script(EXIT 2 ARGS --image ${image} --reader X ${WORK}/setup.script
         OUT "give one of --image FILE or --reader NAME")
  script(EXIT 2 ARGS ${WORK}/setup.script OUT "give one of --image FILE or --reader NAME")
  unchanged("${before}" "scripts that could not run")
else()
  message(FATAL_ERROR "unknown CASE ${CASE}")
endif()
