# Runs the lowprec tool once and checks what it did (used by tools/CMakeLists.txt):
#   -DTOOL=<exe> -DARGS=<arguments joined with @@> -DEXIT=<status> -DWORK=<fresh working directory>
#   [-DSTDOUT_FILE=<golden file: stdout must equal it>] [-DSTDOUT_REGEX=<regex>]
#   [-DSTDERR_REGEX=<regex>] [-DNO_FILE=<name: must not exist afterwards, nor any
#   temporary <name>.tmp.* beside it>]
string(REPLACE "@@" ";" ARGS "${ARGS}")  # tools/CMakeLists.txt joins the arguments with @@
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
execute_process(COMMAND "${TOOL}" ${ARGS} WORKING_DIRECTORY "${WORK}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(ok TRUE)
if(NOT "${rc}" STREQUAL "${EXIT}")
  message(SEND_ERROR "exit status ${rc}, expected ${EXIT}")
  set(ok FALSE)
endif()
if(STDOUT_FILE)
  file(READ "${STDOUT_FILE}" golden)
  if(NOT out STREQUAL golden)
    file(WRITE "${WORK}/stdout.txt" "${out}")
    message(SEND_ERROR "stdout differs from ${STDOUT_FILE}; got ${WORK}/stdout.txt "
                       "(diff them; update the golden file only for an intended change)")
    set(ok FALSE)
  endif()
endif()
if(STDOUT_REGEX AND NOT out MATCHES "${STDOUT_REGEX}")
  message(SEND_ERROR "stdout does not match '${STDOUT_REGEX}'")
  set(ok FALSE)
endif()
if(STDERR_REGEX AND NOT err MATCHES "${STDERR_REGEX}")
  message(SEND_ERROR "stderr does not match '${STDERR_REGEX}'")
  set(ok FALSE)
endif()
if(NO_FILE)
  file(GLOB leftovers "${WORK}/${NO_FILE}" "${WORK}/${NO_FILE}.tmp.*")
  if(leftovers)
    message(SEND_ERROR "left output behind: ${leftovers}")
    set(ok FALSE)
  endif()
endif()
if(NOT ok)
  message(FATAL_ERROR "command: ${TOOL} ${ARGS}\n--- stdout ---\n${out}\n--- stderr ---\n${err}")
endif()
