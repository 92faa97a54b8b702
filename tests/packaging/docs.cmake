# packaging_docs: every snippet of docs/packaging.md marked `<!-- test: <kind> -->` is
# built as written. CMake snippets go into a project that defines `app` from
# test_package.cpp and has lowprec's sources at third_party/lowprec (a symlink to this
# checkout); the find_package one is configured against the staging prefix. The
# pkg-config snippet runs in sh with /opt/lowprec replaced by the staging prefix.
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")

set(doc "${LOWPREC_SOURCE_DIR}/docs/packaging.md")
file(READ "${doc}" text)
set(kinds find_package add_subdirectory fetchcontent pkg-config)
foreach(kind IN LISTS kinds)
  string(REGEX MATCH "<!-- test: ${kind} -->[ \n]*```[a-z]*\n([^`]*)```" block "${text}")
  if(NOT block)
    message(FATAL_ERROR "${doc} has no snippet marked <!-- test: ${kind} --> followed by a code block")
  endif()
  set(snippet_${kind} "${CMAKE_MATCH_1}")
endforeach()

foreach(kind find_package add_subdirectory fetchcontent)
  set(project "${WORK_DIR}/${kind}")
  file(REMOVE_RECURSE "${project}")
  file(MAKE_DIRECTORY "${project}/third_party")
  file(CREATE_LINK "${LOWPREC_SOURCE_DIR}" "${project}/third_party/lowprec" SYMBOLIC)
  configure_file("${LOWPREC_SOURCE_DIR}/test_package/test_package.cpp" "${project}/app.cpp" COPYONLY)
  file(WRITE "${project}/CMakeLists.txt"
    "cmake_minimum_required(VERSION 3.16)\n"
    "project(docs_${kind} LANGUAGES CXX)\n"
    "add_executable(app app.cpp)\n"
    "${snippet_${kind}}")
  set(args "")
  if(kind STREQUAL "find_package")
    set(args "-DCMAKE_PREFIX_PATH=${PREFIX}")
  endif()
  pkg_consumer("docs snippet '${kind}'" SOURCE "${project}" BINARY "${project}/build" ARGS ${args} RUN app)
  if(kind STREQUAL "find_package")
    pkg_check_found_in("docs snippet '${kind}'" "${project}/build" "${PREFIX}")
  endif()
endforeach()

find_program(SH sh)
if(PKG_CONFIG_EXECUTABLE AND SH AND CXX_COMPILER_ID MATCHES "GNU|Clang")
  set(project "${WORK_DIR}/pkg-config")
  file(REMOVE_RECURSE "${project}")
  configure_file("${LOWPREC_SOURCE_DIR}/test_package/test_package.cpp" "${project}/app.cpp" COPYONLY)
  string(REPLACE "/opt/lowprec" "${PREFIX}" script "${snippet_pkg-config}")
  pkg_exec("docs snippet 'pkg-config'" WORKING_DIRECTORY "${project}" COMMAND "${SH}" -e -c "${script}")
  pkg_exec("docs snippet 'pkg-config': run" WORKING_DIRECTORY "${project}" COMMAND "${project}/app")
else()
  message(STATUS "no pkg-config, sh or GNU-style compiler: the pkg-config snippet is not run")
endif()
