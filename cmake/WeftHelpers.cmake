# Shared helpers so each src/<library>/CMakeLists.txt stays a few lines long.

function(weft_apply_sanitizers)
  if(WEFT_SANITIZE)
    set(flags "-fsanitize=${WEFT_SANITIZE}" -fno-omit-frame-pointer)
    if(WEFT_SANITIZE MATCHES "undefined")
      # A UBSan finding is a bug: fail the test instead of printing and carrying on.
      list(APPEND flags -fno-sanitize-recover=undefined)
    endif()
    add_compile_options(${flags})
    add_link_options(${flags})
  endif()
endfunction()

# weft_library(NAME SOURCES ... DEPS ...): a static library weft_NAME whose headers are
# included as "NAME/header.h" from src/.
function(weft_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(weft_${name} STATIC ${ARG_SOURCES})
  target_include_directories(weft_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(weft_${name} PUBLIC ${ARG_DEPS})
endfunction()

# weft_test(NAME SOURCES ... DEPS ...): a GoogleTest binary registered with ctest.
function(weft_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST PROPERTIES LABELS unit)
endfunction()

# weft_program(NAME SOURCES ... DEPS ...): an executable placed in <build>/bin, where every
# Weft binary and sample program sits side by side (the local runtime finds the sample
# programs next to the `weft` binary).
function(weft_program name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
endfunction()
