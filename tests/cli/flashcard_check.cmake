# Driver of the seam flashcard tests (flashcard.cmake): SEAM, APPS and WORK name the
# command, the applets and a scratch folder; CASE the figure (fig10, fig11). P12 through
# the built binary.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(fc ${WORK}/fc)
set(purse A0000005505511)

# run(EXIT status [OUT regex...] [ERR regex...] ARGS args...): runs seam with args and
# checks its exit status and outputs; leaves them in run_out and run_err.
function(run)
  cmake_parse_arguments(PARSE_ARGV 0 r "" "EXIT" "OUT;ERR;ARGS")
  execute_process(COMMAND ${SEAM} ${r_ARGS} RESULT_VARIABLE status OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT status EQUAL r_EXIT)
    message(FATAL_ERROR "seam ${r_ARGS}: exit ${status}, expected ${r_EXIT}\n${out}${err}")
  endif()
  foreach(regex ${r_OUT})
    if(NOT out MATCHES "${regex}")
      message(FATAL_ERROR "seam ${r_ARGS}: stdout does not match '${regex}':\n${out}${err}")
    endif()
  endforeach()
  foreach(regex ${r_ERR})
    if(NOT err MATCHES "${regex}")
      message(FATAL_ERROR "seam ${r_ARGS}: stderr does not match '${regex}':\n${out}${err}")
    endif()
  endforeach()
  set(run_out "${out}" PARENT_SCOPE)
  set(run_err "${err}" PARENT_SCOPE)
endfunction()

if(CASE STREQUAL "fig10")
  # FIG. 10: the card in the terminal. The issuer makes the terminal's domain; the
  # terminal installs purse 1.0 personalized (PIN 5678), the purse is used, then the
  # terminal updates it to 2.0 on the image: PIN and balance kept
  set(image ${WORK}/card.db)
  set(tp --image ${image} --domain-keys ${WORK}/terminal.keys --state ${WORK}/state.db)
  run(EXIT 0 ARGS card new --image ${image})
  run(EXIT 0 OUT "handed over" ARGS terminal perso domain --image ${image} --isd-keys default
      --aid A000000559100D --out ${WORK}/terminal.keys)
  run(EXIT 0 OUT "install: package A00000055055 1.0, 1 instance"
      ARGS terminal perso install ${tp} --perso ${purse}:DF010435363738 ${APPS}/purse.wasm)
  run(EXIT 0 OUT "0000004600000002 9000"
      ARGS gp --image ${image} apdu 00A4040007${purse} 802000000435363738 80300000040000006400
           80400000040000001E 8050000000)
  run(EXIT 0 OUT "update: package A00000055055 2.0, 1 instance"
      ARGS terminal perso update ${tp} ${APPS}/purse_v2.wasm)
  run(EXIT 0 OUT "9000 .*\n0000004600000002 9000 .*\n63C2 .*\n9000 "
      ARGS gp --image ${image} apdu 00A4040007${purse} 8050000000 802000000431323334
           802000000435363738)
  run(EXIT 0 OUT "PKG A00000055055  LOADED  version 2.0  useful space  domain A000000559100D"
      ARGS gp --image ${image} list)
  return()
endif()

if(CASE STREQUAL "fig12")
  # FIG. 12: the card in the flash card, the terminal drives it. The factory makes the
  # flash card (and the controller's domain); the issuer makes the terminal's domain;
  # the terminal installs purse 1.0 personalized, the purse is used through the host
  # interface, then the terminal updates it through the flash card: the controller only
  # relays, and nothing of the terminal's goes into the flash
  set(tp --domain-keys ${WORK}/terminal.keys --state ${WORK}/state.db)
  run(EXIT 0 ARGS flashcard new ${fc})
  run(EXIT 0 OUT "handed over" ARGS terminal perso domain --image ${fc}/card.db
      --isd-keys default --aid A000000559100D --out ${WORK}/terminal.keys)
  run(EXIT 0 ARGS terminal perso install --image ${fc}/card.db ${tp}
      --perso ${purse}:DF010435363738 ${APPS}/purse.wasm)
  run(EXIT 0 OUT "< 00000046000000029000"
      ARGS flashcard apdu ${fc} 00A4040007${purse} 802000000435363738 80300000040000006400
           80400000040000001E 8050000000)
  run(EXIT 0 OUT "update: package A00000055055 2.0, 1 instance\\(s\\), by the terminal; the controller relayed [1-9][0-9]+ APDUs"
      ARGS flashcard terminal-update ${fc} ${tp} ${APPS}/purse_v2.wasm)
  run(EXIT 0 OUT "< 9000\n< 00000046000000029000\n< 63C2\n< 9000"
      ARGS flashcard apdu ${fc} 00A4040007${purse} 8050000000 802000000431323334
           802000000435363738)
  run(EXIT 0 OUT "PKG A00000055055  LOADED  version 2.0  useful space  domain A000000559100D"
      ARGS gp --image ${fc}/card.db list)
  run(EXIT 0 OUT "journal empty\npackages 0" ARGS flashcard status ${fc})
  return()
endif()

# the factory: a card whose issuer made the controller's domain and handed it over
run(EXIT 0 OUT "made flash card" ARGS flashcard new ${fc})
file(READ ${fc}/domain.keys keys)
string(REGEX MATCH "enc=([0-9A-F]+)" _ "${keys}")
set(enc ${CMAKE_MATCH_1})
string(REGEX MATCH "mac=([0-9A-F]+)" _ "${keys}")
set(mac ${CMAKE_MATCH_1})
string(REGEX MATCH "dek=([0-9A-F]+)" _ "${keys}")
set(dek ${CMAKE_MATCH_1})
if(NOT enc OR NOT mac OR NOT dek)
  message(FATAL_ERROR "domain.keys does not hold the key set:\n${keys}")
endif()
execute_process(COMMAND stat -c %a ${fc}/domain.keys ${fc}/flash.db OUTPUT_VARIABLE modes)
if(NOT modes STREQUAL "600\n600\n")
  message(FATAL_ERROR "domain.keys and flash.db must be 0600, are:\n${modes}")
endif()
# the test key no longer opens the domain (the handover happened)
set(domain --image ${fc}/card.db --sd A000000559100C --kvn 30 --level 33)
run(EXIT 1 ERR "the card cryptogram does not verify" ARGS gp ${domain} apdu --secure 80F24002024F0000)

# purse 1.0 installed through the controller's domain, personalized (PIN 5678), used
set(gp gp ${domain} --key-enc ${enc} --key-mac ${mac} --key-dek ${dek})
run(EXIT 0 OUT "installed ${purse}" ARGS ${gp} install ${APPS}/purse.wasm --aid ${purse})
run(EXIT 0 ARGS ${gp} store-data DF010435363738 --perso ${purse})
run(EXIT 0 OUT "< 9000\n< 9000\n< 9000\n< 9000\n< 00000046000000029000"
    ARGS flashcard apdu ${fc} 00A4040007${purse} 802000000435363738 80300000040000006400
         80400000040000001E 8050000000)

# a package for another card: refused, nothing stored
run(EXIT 0 OUT "cin ([0-9A-F]+)" ARGS flashcard status ${fc})
string(REGEX MATCH "cin ([0-9A-F]+)" _ "${run_out}")
set(cin ${CMAKE_MATCH_1})
run(EXIT 1 ERR "refused: STORE: the package is for another card"
    ARGS flashcard store ${fc} ${APPS}/purse_v2.wasm --cin 0102030405060708)
run(EXIT 0 OUT "packages 0" ARGS flashcard status ${fc})

# FIG. 11: the host stores purse 2.0 into flash, the controller updates the card
run(EXIT 0 OUT "stored" ARGS flashcard store ${fc} ${APPS}/purse_v2.wasm --cin ${cin})
run(EXIT 0 OUT "PKG A00000055055\n    version 2.0" ARGS flashcard list ${fc})
run(EXIT 0 OUT "updated A00000055055 by the controller" ARGS flashcard update ${fc} A00000055055)
run(EXIT 0 OUT "journal empty" ARGS flashcard status ${fc})
run(EXIT 0 OUT "PKG A00000055055  LOADED  version 2.0  useful space  domain A000000559100C"
    ARGS gp --image ${fc}/card.db list)
# the purse kept its balance (70, counter 2) and its PIN (1234 refused, 5678 taken)
run(EXIT 0 OUT "< 9000\n< 00000046000000029000\n< 63C2\n< 9000"
    ARGS flashcard apdu ${fc} 00A4040007${purse} 8050000000 802000000431323334
         802000000435363738)
# an update of a package the flash does not hold: refused
run(EXIT 1 ERR "refused: no stored package" ARGS flashcard update ${fc} A00000054845)

# P4 by the controller: the card loses the purse (package, instance and its record
# deleted through the domain); the controller restores it from the restore store in
# its flash, personalized again: PIN 5678
run(EXIT 0 ARGS ${gp} delete A00000055055 --force)
run(EXIT 0 ARGS ${gp} apdu --secure 80E400000ADF7007${purse}00)
run(EXIT 0 OUT "< 6A82" ARGS flashcard apdu ${fc} 00A4040007${purse})
run(EXIT 0 OUT "restored ${purse} from the flash" ARGS flashcard restore ${fc} A00000055055 ${purse})
run(EXIT 0 OUT "< 9000\n< 63C2\n< 9000"
    ARGS flashcard apdu ${fc} 00A4040007${purse} 802000000431323334 802000000435363738)
