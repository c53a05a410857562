# Tests of `seam wasm run`: small wasm32-wasi programs (programs/*.c), built
# at build time with clang against wasi-libc, run through the seam command by
# run_check.cmake, which compares the exit status, stdout and stderr.

find_program(SEAM_WASM_CLANG NAMES clang clang-14)
find_program(SEAM_WASM_LD NAMES wasm-ld wasm-ld-14)
set(SEAM_WASI_SYSROOT /usr CACHE PATH "Sysroot holding include/wasm32-wasi and lib/wasm32-wasi")
set(seam_wasi_hint "on Debian: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32")
if(NOT SEAM_WASM_CLANG OR NOT SEAM_WASM_LD)
  message(FATAL_ERROR "tests/cli: the wasm32-wasi test programs need clang and wasm-ld (${seam_wasi_hint})")
endif()
if(NOT EXISTS ${SEAM_WASI_SYSROOT}/lib/wasm32-wasi/libc.a)
  message(FATAL_ERROR "tests/cli: wasi-libc not found under ${SEAM_WASI_SYSROOT}/lib/wasm32-wasi (${seam_wasi_hint})")
endif()
execute_process(
  COMMAND ${SEAM_WASM_CLANG} --target=wasm32-wasi -print-libgcc-file-name
  OUTPUT_VARIABLE seam_wasm_builtins OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT EXISTS "${seam_wasm_builtins}")
  message(FATAL_ERROR "tests/cli: clang's wasm32 builtins library '${seam_wasm_builtins}' is missing (${seam_wasi_hint})")
endif()

set(seam_wasm_programs args exit3 hello spin trap unlinkable wasi_edges)
set(seam_wasm_dir ${CMAKE_CURRENT_BINARY_DIR}/programs)
set(seam_wasm_outputs)
foreach(program ${seam_wasm_programs})
  set(source ${CMAKE_CURRENT_SOURCE_DIR}/programs/${program}.c)
  set(output ${seam_wasm_dir}/${program}.wasm)
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${seam_wasm_dir}
    COMMAND ${SEAM_WASM_CLANG} --target=wasm32-wasi --sysroot=${SEAM_WASI_SYSROOT}
            -O2 -Wall -Wextra -Werror -o ${output} ${source}
    DEPENDS ${source}
    COMMENT "Building wasm32-wasi test program ${program}.wasm"
    VERBATIM)
  list(APPEND seam_wasm_outputs ${output})
endforeach()
add_custom_target(seam-cli-wasm-programs ALL DEPENDS ${seam_wasm_outputs})

# seam_run_test(NAME EXIT status ARGS arg... [STDOUT text] [STDERR_REGEX regex])
# runs `seam wasm run ARGS...` and checks the status, the exact stdout (when
# given) and that stderr matches the regex (when given).
function(seam_run_test name)
  cmake_parse_arguments(PARSE_ARGV 1 check "" "EXIT;STDOUT;STDERR_REGEX" "ARGS")
  string(REPLACE ";" "|" joined_args "${check_ARGS}")
  set(defines -DSEAM=$<TARGET_FILE:seam-cli> "-DARGS=${joined_args}" -DEXPECT_EXIT=${check_EXIT})
  # An empty STDOUT "" counts as given: the program must print nothing.
  if(DEFINED check_STDOUT OR "STDOUT" IN_LIST check_KEYWORDS_MISSING_VALUES)
    list(APPEND defines "-DEXPECT_STDOUT=${check_STDOUT}")
  endif()
  if(DEFINED check_STDERR_REGEX)
    list(APPEND defines "-DSTDERR_REGEX=${check_STDERR_REGEX}")
  endif()
  add_test(NAME cli_run_${name}
           COMMAND ${CMAKE_COMMAND} ${defines} -P ${CMAKE_CURRENT_SOURCE_DIR}/run_check.cmake)
endfunction()

set(p ${seam_wasm_dir})

seam_run_test(hello EXIT 0 ARGS ${p}/hello.wasm STDOUT "hello, world\n")

seam_run_test(args EXIT 0 ARGS ${p}/args.wasm one "two words" --three
  STDOUT "argc=4\nargv[1]=one\nargv[2]=two words\nargv[3]=--three\nenvc=0\n")

seam_run_test(exit_status EXIT 3 ARGS ${p}/exit3.wasm STDOUT "leaving with 3\n")

seam_run_test(trap EXIT 134 ARGS ${p}/trap.wasm
  STDOUT "before the trap\n" STDERR_REGEX "^seam: trap: unreachable")

seam_run_test(not_a_module EXIT 2 ARGS ${CMAKE_CURRENT_SOURCE_DIR}/programs/hello.c
  STDOUT "" STDERR_REGEX "^seam: [^\n]*hello\\.c: invalid module: ")

seam_run_test(missing_file EXIT 2 ARGS ${p}/no-such-file.wasm
  STDOUT "" STDERR_REGEX "no-such-file\\.wasm: No such file")

seam_run_test(unlinkable EXIT 2 ARGS ${p}/unlinkable.wasm
  STDOUT "" STDERR_REGEX "unlinkable\\.wasm: cannot link: [^\n]*no_such_call")

seam_run_test(fuel_exhausted EXIT 134 ARGS --fuel 1000 ${p}/spin.wasm
  STDOUT "" STDERR_REGEX "^seam: trap: [^\n]*fuel[^\n]*exhausted")

# The same budget is no obstacle once the code is translated without charges.
seam_run_test(no_metering EXIT 0 ARGS --no-metering --fuel 1000 ${p}/spin.wasm 1000000
  STDOUT "state=366300225\n")

# A 1000-step loop plus libc start-up and printf: some fuel, far from 10 million.
seam_run_test(stats EXIT 0 ARGS --stats ${p}/spin.wasm 1000
  STDOUT "state=645503657\n" STDERR_REGEX "seam: fuel used: [1-9][0-9]?[0-9]?[0-9]?[0-9]?[0-9]?[0-9]?\n")

# The fuel --stats reports is exactly the budget the same run needs.
add_test(NAME cli_run_fuel_exact
         COMMAND ${CMAKE_COMMAND} -DSEAM=$<TARGET_FILE:seam-cli> -DFUEL_EXACT=ON -DEXPECT_EXIT=0
                 "-DARGS=${p}/spin.wasm|5000" -P ${CMAKE_CURRENT_SOURCE_DIR}/run_check.cmake)

seam_run_test(usage EXIT 2 ARGS --fuel lots ${p}/hello.wasm
  STDOUT "" STDERR_REGEX "--fuel needs a decimal number")

seam_run_test(wasi_edges EXIT 0 ARGS ${p}/wasi_edges.wasm STDOUT
"fd_write fd 7: 8
fd_write fd 0: 8
fd_write iovec past end: 21
fd_write buffer past end: 21
fd_write result past end: 21
direct write
fd_write stdout: 0
fd_write written: 13
args_sizes_get past end: 21
args_sizes_get: 0
args count: 1
args_get buffer past end: 21
environ_sizes_get: 0
environ count: 0
realtime: 0
realtime after 2020: 1
monotonic: 0
monotonic ordered: 1
cputime clock: 28
realtime past end: 21
random_get: 0
random differs: 1
random_get past end: 21
fd_read stdin: 8
fd_close 9: 8
fd_prestat_get 3: 8
path_open: 8
fd_seek stdout: 70
poll_oneoff: 52
fd_fdstat_get 5: 8
fd_fdstat_get stdout: 0
stdout writable: 1
")
