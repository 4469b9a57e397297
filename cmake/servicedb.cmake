# Helpers shared by every target of ours. Third-party headers come in as SYSTEM includes
# through their imported targets, so -Werror applies to our code only.

# GCC 12 at -O3 (Release) reports a false -Wrestrict inside libstdc++'s std::string concatenation
# (GCC bug 105329); it is not in our code, so only that warning is turned off, only for GCC 12.
set(SERVICEDB_WARNINGS -Wall -Wextra -Werror)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  list(APPEND SERVICEDB_WARNINGS -Wno-restrict)
endif()

# servicedb_library(NAME SOURCES... DEPS ...): a static library of one layer.
function(servicedb_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${SERVICEDB_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# servicedb_executable(NAME SOURCES... DEPS ...)
function(servicedb_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${SERVICEDB_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()

# servicedb_gtest(NAME SOURCES... DEPS ... LABELS ...): a GoogleTest binary registered with ctest.
function(servicedb_gtest name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${SERVICEDB_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    PROPERTIES LABELS "${ARG_LABELS}" ENVIRONMENT "SERVICEDB_SOURCE_DIR=${PROJECT_SOURCE_DIR};SERVICEDB_BINARY_DIR=${CMAKE_BINARY_DIR}"
    DISCOVERY_TIMEOUT 60)
endfunction()
include(GoogleTest)

# servicedb_add_subdirectories(): adds every immediate sub-folder that has a CMakeLists.txt, so
# independent areas (one per folder) never edit a shared list.
function(servicedb_add_subdirectories)
  file(GLOB children LIST_DIRECTORIES true RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(child ${children})
    if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${child} AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${child}/CMakeLists.txt)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()
