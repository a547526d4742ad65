# The tools behind the optional parts of the build. Only the library needs something (libuv,
# msgpack-cxx, OpenSSL, zlib, pkg-config: the top-level CMakeLists.txt finds those as REQUIRED).
# Each part below is on when its ML_BUILD_* option is on and its tools are found; when a tool is
# missing, that part is turned off (the option is shadowed by a normal variable for this run) with
# one configure warning saying what was not found and what is skipped. Found tools are cached, so
# the subdirectories' own REQUIRED look-ups succeed.
#
# ML_REQUIRE_ALL=ON (scripts/test.sh) makes a missing tool a configure error instead: a test run
# must not pass by silently building less.
option(ML_REQUIRE_ALL "Fail at configure time when a tool needed by an enabled ML_BUILD_* part is missing" OFF)

# ml_skip_part(<option> <message>): turn <option> off for this configure run, or fail.
macro(ml_skip_part option text)
  if(ML_REQUIRE_ALL)
    message(FATAL_ERROR "${option}: ${text}; ML_REQUIRE_ALL=ON makes this an error")
  endif()
  message(WARNING "${option}: ${text}")
  set(${option} OFF)
endmacro()

if(ML_BUILD_TESTS)
  find_package(GTest QUIET)
  if(NOT GTest_FOUND)
    if(ML_REQUIRE_ALL)
      message(FATAL_ERROR "ML_BUILD_TESTS: GoogleTest not found (ML_REQUIRE_ALL is on)")
    endif()
    message(WARNING "ML_BUILD_TESTS: GoogleTest not found, the C++ core suites (core.*) are not built")
  endif()
  find_path(CMOCKA_INCLUDE_DIR cmocka.h)
  find_library(CMOCKA_LIBRARY cmocka)
  if(NOT CMOCKA_INCLUDE_DIR OR NOT CMOCKA_LIBRARY)
    set(ML_HAVE_CMOCKA OFF)
    if(ML_REQUIRE_ALL)
      message(FATAL_ERROR "ML_BUILD_TESTS: cmocka not found (ML_REQUIRE_ALL is on)")
    endif()
    message(WARNING "ML_BUILD_TESTS: cmocka not found, the C API suites (capi_test_*) are not built")
  else()
    set(ML_HAVE_CMOCKA ON)
  endif()
endif()

if(ML_BUILD_GO)
  # The CLI (cmake/MlGoCli.cmake) is built with or without the tests.
  find_program(GO_EXECUTABLE go HINTS /usr/local/go/bin)
  if(NOT GO_EXECUTABLE)
    ml_skip_part(ML_BUILD_GO "Go toolchain (go) not found, the memberlist CLI is not built and the Go suites, the demo and the netns tests are not registered")
  endif()
endif()

if(ML_BUILD_JAVA)
  find_package(SWIG 4.0 QUIET)
  # jni.h of the JDK whose javac is on the PATH (the one Maven uses), unless JAVA_HOME says otherwise.
  if(NOT DEFINED ENV{JAVA_HOME})
    find_program(ML_JAVAC javac)
    if(ML_JAVAC)
      file(REAL_PATH "${ML_JAVAC}" _javac)
      get_filename_component(_jdk "${_javac}" DIRECTORY)
      get_filename_component(_jdk "${_jdk}" DIRECTORY)
      set(ENV{JAVA_HOME} "${_jdk}")
    endif()
  endif()
  find_package(JNI QUIET COMPONENTS JVM)  # jni.h only; AWT (libjawt) not needed
  if(NOT SWIG_FOUND)
    ml_skip_part(ML_BUILD_JAVA "SWIG 4.0+ not found, the Java binding is not built")
  elseif(NOT JNI_FOUND)
    ml_skip_part(ML_BUILD_JAVA "a JDK (jni.h) not found, the Java binding is not built")
  endif()
endif()
if(ML_BUILD_JAVA AND ML_REQUIRE_ALL)
  # java/CMakeLists.txt skips the JUnit suite with a warning of its own when these are missing.
  find_program(ML_MVN mvn)
  find_package(Java 17 QUIET COMPONENTS Runtime Development)
  if(NOT ML_MVN OR NOT Java_FOUND)
    message(FATAL_ERROR "ML_BUILD_JAVA: mvn or a JDK 17 not found (ML_REQUIRE_ALL is on)")
  endif()
endif()
